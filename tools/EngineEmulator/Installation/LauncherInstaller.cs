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
/// the folder on PATH, or pointing a manager's engine path at one of them, is all it takes. A folder named <c>bin</c> is
/// taken for a virtual environment's: the packages' metadata goes next to it (<c>../lib/python3.12/site-packages/
/// &lt;package&gt;-&lt;version&gt;.dist-info/METADATA</c>), as pip writes it, so the installed versions can be read.</summary>
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
        if (Path.GetFileName(Path.GetFullPath(folder).TrimEnd(Path.DirectorySeparatorChar)) == "bin")
            WriteMetadata(Path.GetDirectoryName(Path.GetFullPath(folder).TrimEnd(Path.DirectorySeparatorChar))!);
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

    /// <summary>The distribution name and version pip would record for each flavour's package.</summary>
    public static (string Distribution, string Version) Package(Flavour flavour) => flavour switch
    {
        Flavour.MlxLm => ("mlx_lm", Server.EngineRuntime.MlxLmVersion),
        Flavour.MlxVlm => ("mlx_vlm", Server.EngineRuntime.MlxVlmVersion),
        _ => ("mlx_openai_server", Server.EngineRuntime.OpenAiServerVersion),
    };

    static void WriteMetadata(string environment)
    {
        var sitePackages = Path.Combine(environment, "lib", "python3.12", "site-packages");
        foreach (var flavour in FlavourNames.All)
        {
            var (distribution, version) = Package(flavour);
            var info = Directory.CreateDirectory(Path.Combine(sitePackages, $"{distribution}-{version}.dist-info")).FullName;
            File.WriteAllText(Path.Combine(info, "METADATA"),
                $"Metadata-Version: 2.4\nName: {distribution.Replace('_', '-')}\nVersion: {version}\nSummary: EngineEmulator stand-in (see tools/EngineEmulator/README.md)\n\n",
                new UTF8Encoding(false));
        }
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
