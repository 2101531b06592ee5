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

/// <summary>macOS: <c>~/Library/LaunchAgents/&lt;label&gt;.plist</c> and the <c>gui/&lt;uid&gt;</c> domain.</summary>
internal sealed class LaunchAgent(ServiceDefinition service, ServiceCommand command)
{
    public string PlistPath => Path.Combine(command.Home, "Library", "LaunchAgents", service.Label + ".plist");

    public string Domain => $"gui/{ServiceCommand.GetEffectiveUserId()}";

    /// <summary>The launchctl argument lists of each step, in order.</summary>
    public IReadOnlyList<string[]> Steps(string verb) => verb switch
    {
        "install" => [["bootout", $"{Domain}/{service.Label}"], ["bootstrap", Domain, PlistPath]],
        "uninstall" => [["bootout", $"{Domain}/{service.Label}"]],
        _ => [["print", $"{Domain}/{service.Label}"]],
    };

    public async Task<int> RunAsync(string verb, CancellationToken cancellationToken)
    {
        switch (verb)
        {
            case "install":
                Directory.CreateDirectory(Path.GetDirectoryName(service.StandardOutPath)!);
                ServiceCommand.WritePrivate(PlistPath, LaunchAgentPlist.Render(service));
                await command.SayAsync($"Wrote {PlistPath}");
                var steps = Steps(verb);
                await command.ToolAsync("launchctl", steps[0], cancellationToken); // not loaded yet: fails, which is fine
                var loaded = await command.ToolAsync("launchctl", steps[1], cancellationToken);
                await command.SayAsync(loaded.ExitCode == 0
                    ? $"Loaded {service.Label}: MLX Manager runs now and at every login. Output: {service.StandardOutPath}"
                    : $"launchctl could not load {PlistPath}; the file is written, see the message above.");
                return loaded.ExitCode == 0 ? 0 : 1;
            case "uninstall":
                await command.ToolAsync("launchctl", Steps(verb)[0], cancellationToken);
                if (File.Exists(PlistPath))
                {
                    File.Delete(PlistPath);
                    await command.SayAsync($"Removed {PlistPath}. Model servers it started keep running until stopped.");
                }
                else
                {
                    await command.SayAsync($"No {PlistPath}: nothing to remove.");
                }

                return 0;
            default:
                await command.SayAsync(File.Exists(PlistPath) ? $"Installed: {PlistPath}" : $"Not installed ({PlistPath} does not exist).");
                return (await command.ToolAsync("launchctl", Steps(verb)[0], cancellationToken)).ExitCode == 0 ? 0 : 3;
        }
    }
}

/// <summary>Linux: <c>~/.config/systemd/user/mlx-manager.service</c> and <c>systemctl --user</c> when there is one.</summary>
internal sealed class SystemdUser(ServiceDefinition service, ServiceCommand command)
{
    public string UnitPath => Path.Combine(command.Home, ".config", "systemd", "user", ServiceDefinition.SystemdUnitName);

    /// <summary>The systemctl argument lists of each step, in order.</summary>
    public static IReadOnlyList<string[]> Steps(string verb) => verb switch
    {
        "install" => [["--user", "daemon-reload"], ["--user", "enable", "--now", ServiceDefinition.SystemdUnitName]],
        "uninstall" => [["--user", "disable", "--now", ServiceDefinition.SystemdUnitName], ["--user", "daemon-reload"]],
        _ => [["--user", "status", "--no-pager", ServiceDefinition.SystemdUnitName]],
    };

    public async Task<int> RunAsync(string verb, CancellationToken cancellationToken)
    {
        var systemctl = command.Find("systemctl");
        if (verb == "install")
        {
            Directory.CreateDirectory(Path.GetDirectoryName(service.StandardOutPath)!);
            ServiceCommand.WritePrivate(UnitPath, SystemdUserUnit.Render(service));
            await command.SayAsync($"Wrote {UnitPath}");
        }

        if (verb == "uninstall" && File.Exists(UnitPath) && systemctl is null)
        {
            File.Delete(UnitPath);
            await command.SayAsync($"Removed {UnitPath}.");
        }

        if (systemctl is null)
        {
            await command.ComplainAsync("systemctl was not found on PATH: nothing was started or stopped. Start the manager with your own init system, or run `systemctl --user "
                + string.Join(' ', Steps(verb)[^1].Skip(1)) + "` where systemd runs.");
            return verb == "status" ? 3 : 1;
        }

        var exit = 0;
        foreach (var step in Steps(verb))
        {
            exit = (await command.ToolAsync(systemctl, step, cancellationToken)).ExitCode;
            if (exit != 0 && verb != "uninstall")
            {
                break;
            }
        }

        if (verb == "uninstall" && File.Exists(UnitPath))
        {
            File.Delete(UnitPath);
            await command.SayAsync($"Removed {UnitPath}.");
        }

        if (verb == "install")
        {
            await command.SayAsync(exit == 0 ? $"Enabled and started {ServiceDefinition.SystemdUnitName}: MLX Manager runs now and at every login. Output: {service.StandardOutPath}"
                : "systemctl did not start the unit; see its message above.");
        }

        return exit == 0 ? 0 : verb == "status" ? 3 : 1;
    }
}
