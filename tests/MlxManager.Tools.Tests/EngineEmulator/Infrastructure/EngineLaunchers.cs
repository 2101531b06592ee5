using MlxManager.EngineEmulator;
using MlxManager.EngineEmulator.Installation;

namespace MlxManager.Tools.Tests.EngineEmulator.Infrastructure;

/// <summary>The launchers the tests start engines through, installed once per test run into temp folders
/// exactly as a user would install them: exec launchers and wrapper launchers.</summary>
public static class EngineLaunchers
{
    static readonly Lazy<string> ExecFolder = new(() => Install(LauncherKind.Exec));
    static readonly Lazy<string> WrapperFolder = new(() => Install(LauncherKind.Wrapper));

    static string Install(LauncherKind kind)
    {
        var folder = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"engine-launchers-{kind.ToString().ToLowerInvariant()}-{Environment.ProcessId}");
        LauncherInstaller.Install(folder, kind, typeof(LauncherInstaller).Assembly.Location);
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        };
        return folder;
    }

    public static string Path(Flavour flavour, LauncherKind kind = LauncherKind.Exec) =>
        System.IO.Path.Combine(kind == LauncherKind.Exec ? ExecFolder.Value : WrapperFolder.Value, flavour.ExecutableName());
}
