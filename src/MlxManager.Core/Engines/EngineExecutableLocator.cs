using Microsoft.Extensions.Options;

namespace MlxManager.Core.Engines;

/// <summary>
/// Finds an engine's executable: the configured path (<see cref="EngineOptions"/>) when there is one,
/// otherwise the first executable file of that name on PATH. When it is missing, the answer says exactly
/// what was looked for, where, and how to install it.
/// </summary>
public sealed class EngineExecutableLocator(IOptionsMonitor<EngineOptions> options)
{
    /// <summary>Resolves <paramref name="engine"/>'s executable, searching <paramref name="pathVariable"/> (default: this process's PATH).</summary>
    public ExecutableResolution Resolve(IEngineDefinition engine, string? pathVariable = null)
    {
        ArgumentNullException.ThrowIfNull(engine);
        var configured = options.CurrentValue.Engines.TryGetValue(engine.Key, out var settings) ? settings.Path : null;
        return string.IsNullOrWhiteSpace(configured)
            ? SearchPath(engine, pathVariable ?? Environment.GetEnvironmentVariable("PATH") ?? "")
            : CheckConfigured(engine, configured.Trim());
    }

    /// <summary>True when <paramref name="path"/> is a file this process may execute (on Unix: some execute bit is set).</summary>
    public static bool IsExecutableFile(string path)
    {
        if (!File.Exists(path))
        {
            return false;
        }

        if (OperatingSystem.IsWindows())
        {
            return true;
        }

        const UnixFileMode anyExecute = UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;
        return (File.GetUnixFileMode(path) & anyExecute) != 0;
    }

    private static ExecutableResolution CheckConfigured(IEngineDefinition engine, string configured)
    {
        var path = ExpandHome(configured);
        var key = EngineOptions.PathKey(engine.Key);
        var where = new[] { $"{path} (configured by {key})" };
        if (Directory.Exists(path))
        {
            return ExecutableResolution.Missing(engine, where,
                $"{engine.ExecutableName} is configured at {path} ({key}), but that is a folder. Set it to the executable file itself, e.g. {Path.Combine(path, engine.ExecutableName)}.");
        }

        if (!File.Exists(path))
        {
            return ExecutableResolution.Missing(engine, where,
                $"{engine.ExecutableName} is configured at {path} ({key}), but no file exists there. Install it with `{engine.InstallHint}` and correct the path, or clear the setting to look it up on PATH.");
        }

        if (!IsExecutableFile(path))
        {
            return ExecutableResolution.Missing(engine, where,
                $"{engine.ExecutableName} is configured at {path} ({key}), but that file is not executable. Make it executable (chmod +x) or point the setting at the right file.");
        }

        return ExecutableResolution.Found(engine, Path.GetFullPath(path), where);
    }

    private static ExecutableResolution SearchPath(IEngineDefinition engine, string pathVariable)
    {
        var directories = pathVariable
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Distinct(StringComparer.Ordinal)
            .ToList();
        foreach (var directory in directories)
        {
            var candidate = Path.Combine(ExpandHome(directory), engine.ExecutableName);
            if (IsExecutableFile(candidate))
            {
                return ExecutableResolution.Found(engine, Path.GetFullPath(candidate), directories);
            }
        }

        var looked = directories.Count == 0 ? "PATH is empty" : "looked on PATH in " + string.Join(", ", directories);
        return ExecutableResolution.Missing(engine, directories,
            $"{engine.ExecutableName} was not found ({looked}). Install it with `{engine.InstallHint}` in the Python environment the engine should use, "
            + $"then add that environment's bin folder to the manager's PATH or set {EngineOptions.PathKey(engine.Key)} to the executable's full path.");
    }

    private static string ExpandHome(string path) =>
        path == "~" || path.StartsWith("~/", StringComparison.Ordinal)
            ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), path.Length > 2 ? path[2..] : "")
            : path;
}

/// <summary>Where an engine's executable is, or why it could not be used.</summary>
/// <param name="EngineKey">The engine looked up.</param>
/// <param name="ExecutablePath">Full path when found, otherwise null.</param>
/// <param name="Problem">For the user when not found: what, where it looked, how to install.</param>
/// <param name="Searched">The configured path or the PATH folders that were searched.</param>
public sealed record ExecutableResolution(string EngineKey, string? ExecutablePath, string? Problem, IReadOnlyList<string> Searched)
{
    public bool IsFound => ExecutablePath is not null;

    internal static ExecutableResolution Found(IEngineDefinition engine, string path, IReadOnlyList<string> searched) =>
        new(engine.Key, path, null, searched);

    internal static ExecutableResolution Missing(IEngineDefinition engine, IReadOnlyList<string> searched, string problem) =>
        new(engine.Key, null, problem, searched);
}
