using MlxManager.EngineEmulator;
using MlxManager.EngineEmulator.Installation;
using MlxManager.Tools.Tests.EngineEmulator.Infrastructure;

namespace MlxManager.Tools.Tests.EngineEmulator.Installation;

[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class LauncherInstallerTests : IDisposable
{
    readonly string folder = Directory.CreateTempSubdirectory("launchers-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    [Fact]
    public void Install_WritesThreeExecutableLaunchersNamedLikeTheEngines()
    {
        var written = LauncherInstaller.Install(folder);

        written.Select(Path.GetFileName).ShouldBe(["mlx_lm.server", "mlx_vlm.server", "mlx-openai-server"]);
        foreach (var path in written)
        {
            (File.GetUnixFileMode(path) & UnixFileMode.UserExecute).ShouldBe(UnixFileMode.UserExecute);
            var script = File.ReadAllText(path);
            script.ShouldStartWith("#!/bin/sh\n");
            script.ShouldContain($"exec '{LauncherInstaller.DotnetHost()}' '{typeof(LauncherInstaller).Assembly.Location}' --flavour '{Path.GetFileName(path)}' \"$@\"");
        }
    }

    [Fact]
    public void Install_IntoABinFolder_WritesThePackagesMetadataAsPipDoes()
    {
        var bin = Path.Combine(folder, "venv", "bin");

        LauncherInstaller.Install(bin);

        var sitePackages = Path.Combine(folder, "venv", "lib", "python3.12", "site-packages");
        File.ReadAllText(Path.Combine(sitePackages, $"mlx_lm-{MlxManager.EngineEmulator.Server.EngineRuntime.MlxLmVersion}.dist-info", "METADATA"))
            .ShouldContain($"Name: mlx-lm\nVersion: {MlxManager.EngineEmulator.Server.EngineRuntime.MlxLmVersion}\n");
        Directory.GetDirectories(sitePackages).Select(Path.GetFileName).ShouldBe(
            ["mlx_lm-0.28.4.dist-info", "mlx_openai_server-1.5.2.dist-info", "mlx_vlm-0.3.9.dist-info"], ignoreOrder: true);
    }

    [Fact]
    public void Install_IntoAnyOtherFolder_WritesOnlyTheLaunchers()
    {
        LauncherInstaller.Install(folder);

        Directory.GetFileSystemEntries(folder).Length.ShouldBe(3);
    }

    [Fact]
    public void Install_Wrapper_RunsTheEmulatorAsAChildAndForwardsSignals()
    {
        var written = LauncherInstaller.Install(folder, LauncherKind.Wrapper);

        var script = File.ReadAllText(written[0]);
        script.ShouldNotContain("exec ");
        script.ShouldContain("EMULATOR_PARENT_PID=$$");
        script.ShouldContain("trap 'kill -TERM \"$child\" 2>/dev/null' TERM INT HUP");
    }

    [Fact]
    public async Task ExecLauncher_TheStartedPidIsTheEmulatorItself()
    {
        using var cache = new ModelCache();
        using var engine = EngineProcess.Start(Flavour.MlxLm, [], cache.Environment());
        await engine.WaitListeningAsync();

        var commandLine = File.ReadAllText($"/proc/{engine.Pid}/cmdline").Split('\0');
        commandLine.ShouldContain(typeof(LauncherInstaller).Assembly.Location);
        commandLine.ShouldContain("mlx_lm.server");
    }

    [Fact]
    public async Task WrapperLauncher_TheStartedPidIsAShellWhoseChildIsTheEmulator()
    {
        using var cache = new ModelCache();
        using var engine = EngineProcess.Start(Flavour.MlxLm, [], cache.Environment(), launcher: LauncherKind.Wrapper);
        await engine.WaitListeningAsync();

        File.ReadAllText($"/proc/{engine.Pid}/cmdline").ShouldNotContain("MlxManager.EngineEmulator.dll");
        var child = EngineProcess.Children(engine.Pid).ShouldHaveSingleItem();
        File.ReadAllText($"/proc/{child}/cmdline").ShouldContain("MlxManager.EngineEmulator.dll");
    }

    [Fact]
    public async Task WrapperLauncher_Terminated_TakesTheEmulatorDown()
    {
        using var cache = new ModelCache();
        using var engine = EngineProcess.Start(Flavour.MlxLm, [], cache.Environment(), launcher: LauncherKind.Wrapper);
        await engine.WaitListeningAsync();
        var child = EngineProcess.Children(engine.Pid).Single();

        engine.Process.Kill(entireProcessTree: false);

        (await EngineProcess.EventuallyAsync(() => !Directory.Exists($"/proc/{child}"), TimeSpan.FromSeconds(15))).ShouldBeTrue();
    }
}
