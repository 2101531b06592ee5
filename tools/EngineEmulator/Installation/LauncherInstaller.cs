using System.Text;

namespace MlxManager.EngineEmulator.Installation;

/// <summary>How an installed launcher starts the emulator.</summary>
public enum LauncherKind
{
    /// <summary><c>exec</c>: the process the caller starts becomes the emulator (same PID), as with a real
    /// console-script install.</summary>
    Exec,
    /// <summary>The launcher stays as the parent shell and runs the emulator as its child, forwarding TERM/INT/HUP,
    /// like <c>uv run</c> or a Python wrapper: the model's memory is in a child of the PID the caller holds.</summary>
    Wrapper,
}

/// <summary>Writes executables named <c>mlx_lm.server</c>, <c>mlx_vlm.server</c> and <c>mlx-openai-server</c>
/// into a folder: small POSIX sh launchers that run this emulator with the matching <c>--flavour</c>. Putting
/// the folder on PATH, or pointing a manager's engine path at one of them, is all it takes.</summary>
public static class LauncherInstaller
{
    /// <summary>Writes the three launchers (mode 755) and returns their paths.</summary>
    /// <param name="folder">Created if missing.</param>
    /// <param name="kind">Exec (default) or wrapper launchers.</param>
    /// <param name="emulatorDll">The emulator dll; defaults to this assembly.</param>
    /// <param name="dotnet">The dotnet host; defaults to the one running now.</param>
    public static IReadOnlyList<string> Install(string folder, LauncherKind kind = LauncherKind.Exec, string? emulatorDll = null, string? dotnet = null)
    {
        Directory.CreateDirectory(folder);
        emulatorDll = Path.GetFullPath(emulatorDll ?? typeof(LauncherInstaller).Assembly.Location);
        dotnet ??= DotnetHost();
        var written = new List<string>();
        foreach (var flavour in FlavourNames.All)
        {
            var path = Path.Combine(Path.GetFullPath(folder), flavour.ExecutableName());
            File.WriteAllText(path, Script(flavour, kind, emulatorDll, dotnet), new UTF8Encoding(false));
            if (!OperatingSystem.IsWindows())
                File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
                    | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
            written.Add(path);
        }
        return written;
    }

    /// <summary>The dotnet host running this process, else <c>$DOTNET_ROOT/dotnet</c>, else <c>dotnet</c> from PATH.</summary>
    public static string DotnetHost()
    {
        if (Environment.ProcessPath is { } self && Path.GetFileNameWithoutExtension(self) == "dotnet") return self;
        if (Environment.GetEnvironmentVariable("DOTNET_ROOT") is { Length: > 0 } root && File.Exists(Path.Combine(root, "dotnet")))
            return Path.Combine(root, "dotnet");
        return "dotnet";
    }

    static string Quote(string s) => "'" + s.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    static string Script(Flavour flavour, LauncherKind kind, string dll, string dotnet)
    {
        var name = flavour.ExecutableName();
        var command = $"{Quote(dotnet)} {Quote(dll)} --flavour {Quote(name)} \"$@\"";
        return kind == LauncherKind.Exec
            ? $"""
               #!/bin/sh
               # {name} stand-in written by MlxManager.EngineEmulator (see tools/EngineEmulator/README.md).
               # exec replaces this shell: the PID the caller started is the emulator itself.
               exec {command}

               """
            : $"""
               #!/bin/sh
               # {name} stand-in written by MlxManager.EngineEmulator (see tools/EngineEmulator/README.md).
               # Wrapper mode: this shell stays the parent and the emulator runs as its child (like `uv run`),
               # so the model's memory belongs to a child of the PID the caller started.
               EMULATOR_PARENT_PID=$$
               export EMULATOR_PARENT_PID
               {command} &
               child=$!
               trap 'kill -TERM "$child" 2>/dev/null' TERM INT HUP
               while :; do
                 wait "$child"
                 status=$?
                 kill -0 "$child" 2>/dev/null || exit "$status"
               done

               """;
    }
}
