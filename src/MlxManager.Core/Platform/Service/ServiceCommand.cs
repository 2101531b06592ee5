using System.Collections;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;
using CliWrap;
using CliWrap.Buffered;

namespace MlxManager.Core.Platform.Service;

/// <summary>
/// The <c>service install|uninstall|status</c> verbs of the manager's executable: a per-user LaunchAgent on macOS
/// (loaded with <c>launchctl bootstrap gui/&lt;uid&gt;</c>), a systemd user unit on Linux. <c>install --print</c>
/// prints the plist (<c>--systemd</c>: the unit) and changes nothing, on any OS. launchctl and systemctl run through
/// CliWrap with argument lists. Says what it did, one line per step.
/// </summary>
public sealed class ServiceCommand(IReadOnlyList<string> command, IReadOnlyDictionary<string, string> variables, TextWriter output, TextWriter error)
{
    public static readonly TimeSpan ToolTimeout = TimeSpan.FromSeconds(30);

    /// <summary>For the running manager: started as an apphost, or as <c>dotnet MlxManager.Web.dll</c>.</summary>
    public static ServiceCommand ForThisProcess(TextWriter output, TextWriter error)
    {
        var host = Environment.ProcessPath ?? "dotnet";
        IReadOnlyList<string> command = Path.GetFileNameWithoutExtension(host) == "dotnet" && Assembly.GetEntryAssembly()?.Location is { Length: > 0 } entry
            ? [host, entry]
            : [host];
        var variables = Environment.GetEnvironmentVariables().Cast<DictionaryEntry>()
            .ToDictionary(e => (string)e.Key, e => e.Value as string ?? "", StringComparer.Ordinal);
        return new ServiceCommand(command, variables, output, error);
    }

    /// <summary>Runs the verb in <paramref name="arguments"/> (what follows <c>service</c>); the process exit code.</summary>
    public async Task<int> RunAsync(IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        var verb = arguments.Count > 0 ? arguments[0] : "";
        var rest = arguments.Skip(1).ToList();
        var print = rest.Remove("--print");
        var systemd = rest.Remove("--systemd");
        var mac = OperatingSystem.IsMacOS();
        var service = ServiceDefinition.ForManager(command, rest, variables, mac);
        switch (verb)
        {
            case "install" when print:
                await output.WriteAsync(systemd ? SystemdUserUnit.Render(service) : LaunchAgentPlist.Render(service));
                return 0;
            case "install" or "uninstall" or "status" when mac:
                return await new LaunchAgent(service, this).RunAsync(verb, cancellationToken);
            case "install" or "uninstall" or "status" when OperatingSystem.IsLinux():
                return await new SystemdUser(service, this).RunAsync(verb, cancellationToken);
            case "install" or "uninstall" or "status":
                await error.WriteLineAsync("Services are installed on macOS (LaunchAgent) and Linux (systemd user unit). Use `service install --print` to see the LaunchAgent.");
                return 1;
            default:
                await error.WriteLineAsync("usage: service install [--print [--systemd]] [--data <dir>] [other arguments for the manager] | service uninstall | service status");
                return 2;
        }
    }

    internal string Home => variables.GetValueOrDefault("HOME") ?? Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);

    internal Task SayAsync(string line) => output.WriteLineAsync(line);

    internal Task ComplainAsync(string line) => error.WriteLineAsync(line);

    /// <summary>Runs a tool (no shell); its output is passed on.</summary>
    internal async Task<BufferedCommandResult> ToolAsync(string tool, IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(ToolTimeout);
        var result = await Cli.Wrap(tool).WithArguments(arguments).WithValidation(CommandResultValidation.None)
            .ExecuteBufferedAsync(Encoding.UTF8, timeout.Token).ConfigureAwait(false);
        await output.WriteLineAsync($"$ {tool} {string.Join(' ', arguments)}  → exit {result.ExitCode}");
        foreach (var line in (result.StandardOutput + result.StandardError).Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            await output.WriteLineAsync("  " + line);
        }

        return result;
    }

    /// <summary>The executable named <paramref name="tool"/> on PATH, or null.</summary>
    internal string? Find(string tool) =>
        (variables.GetValueOrDefault("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(folder => Path.Combine(folder, tool))
            .FirstOrDefault(File.Exists);

    internal static void WritePrivate(string path, string text)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text, new UTF8Encoding(false));
        if (!OperatingSystem.IsWindows())
        {
            // launchd refuses a plist that others may write; the file holds paths and settings only this user needs.
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
    }

    internal static uint GetEffectiveUserId() => NativeMethods.geteuid();

    private static class NativeMethods
    {
        [DllImport("libc")]
        internal static extern uint geteuid();
    }
}
