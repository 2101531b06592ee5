using Microsoft.Extensions.Configuration;
using MlxManager.Core.Data;

namespace MlxManager.Core.Platform.Service;

/// <summary>
/// What a per-user service (a macOS LaunchAgent or a systemd user unit) runs: the manager's own command line with
/// its data folder, where its output goes, and the environment the engines need (launchd and systemd start services
/// with a bare PATH and none of the shell's variables).
/// </summary>
/// <param name="Label">LaunchAgent label (<see cref="DefaultLabel"/>); the systemd unit is <see cref="SystemdUnitName"/>.</param>
/// <param name="ProgramArguments">The executable and its arguments, never a shell string.</param>
/// <param name="Environment">Variables in the order written.</param>
public sealed record ServiceDefinition(
    string Label,
    IReadOnlyList<string> ProgramArguments,
    string WorkingDirectory,
    string StandardOutPath,
    string StandardErrorPath,
    IReadOnlyList<KeyValuePair<string, string>> Environment)
{
    public const string DefaultLabel = "io.github.mlx-manager";

    public const string SystemdUnitName = "mlx-manager.service";

    /// <summary>Folders where Homebrew and pip's user installs put commands (ffmpeg, the engines) on a Mac.</summary>
    public static readonly IReadOnlyList<string> MacCommandFolders = ["/opt/homebrew/bin", "/usr/local/bin"];

    /// <summary>Variables passed on as they are when set: the Hugging Face ones (not HF_TOKEN: the service reads
    /// <c>$HF_HOME/token</c> or the Settings page) and the manager's own settings.</summary>
    private static readonly string[] PassedVariables = ["HF_HOME", "HF_HUB_CACHE", "HF_ENDPOINT", "HF_HUB_OFFLINE", "ASPNETCORE_URLS", "DOTNET_ROOT"];

    /// <summary>
    /// The definition for this manager: <paramref name="command"/> is how it was started (the apphost, or dotnet and
    /// the dll), <paramref name="arguments"/> the verb's remaining arguments (passed on, with <c>--data</c> made
    /// explicit), <paramref name="variables"/> the current environment.
    /// </summary>
    public static ServiceDefinition ForManager(IReadOnlyList<string> command, IReadOnlyList<string> arguments, IReadOnlyDictionary<string, string> variables, bool mac)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(variables.Select(v => new KeyValuePair<string, string?>(v.Key.Replace("__", ":", StringComparison.Ordinal), v.Value)))
            .AddCommandLine(arguments.ToArray())
            .Build();
        var data = DataDirectory.FromConfiguration(configuration);
        var passed = WithoutData(arguments);
        var environment = new List<KeyValuePair<string, string>> { new("PATH", ServicePath(variables.GetValueOrDefault("PATH"), mac)) };
        environment.AddRange(PassedVariables.Where(variables.ContainsKey).Select(name => new KeyValuePair<string, string>(name, variables[name])));
        environment.AddRange(variables.Where(v => v.Key.StartsWith("MlxManager__", StringComparison.Ordinal)).OrderBy(v => v.Key, StringComparer.Ordinal));
        var logs = Path.Combine(data.Root, "logs");
        return new ServiceDefinition(
            DefaultLabel,
            [.. command, "--data", data.Root, .. passed],
            data.Root,
            Path.Combine(logs, "service.out.log"),
            Path.Combine(logs, "service.err.log"),
            environment);
    }

    /// <summary>The shell's PATH (which finds the engines now), plus the Mac's command folders when missing.</summary>
    public static string ServicePath(string? current, bool mac)
    {
        var folders = (current ?? "/usr/bin:/bin").Split(':', StringSplitOptions.RemoveEmptyEntries).ToList();
        foreach (var folder in mac ? MacCommandFolders : [])
        {
            if (!folders.Contains(folder, StringComparer.Ordinal))
            {
                folders.Add(folder);
            }
        }

        return string.Join(':', folders.Distinct(StringComparer.Ordinal));
    }

    private static List<string> WithoutData(IReadOnlyList<string> arguments)
    {
        var kept = new List<string>();
        for (var i = 0; i < arguments.Count; i++)
        {
            if (arguments[i] == "--data")
            {
                i++;
                continue;
            }

            if (!arguments[i].StartsWith("--data=", StringComparison.Ordinal))
            {
                kept.Add(arguments[i]);
            }
        }

        return kept;
    }
}
