using MlxManager.Core.Engines;
using MlxManager.Core.Servers;
using MlxManager.Core.Tests.Servers.Infrastructure;
using MlxManager.ModelFixtures;
using Xunit.Abstractions;

namespace MlxManager.Core.Tests.Servers;

/// <summary>Servers outlive the manager, and the next manager on the same data folder takes them over.</summary>
[Collection(ServersCollection.Name)]
public sealed class ServerReattachTests(EngineWorld world, ITestOutputHelper output)
{
    private static readonly TimeSpan LoadWait = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task ManagerRestart_ReattachesToTheSameProcess_WhichIsReadyAgain_AndKeepsLogging()
    {
        var folder = Directory.CreateTempSubdirectory("mlxm-reattach-").FullName;
        try
        {
            int profileId;
            ServerSnapshot before;
            await using (var first = await SupervisorHost.StartAsync(world, output, folder, stopServersOnExit: false))
            {
                var profile = await first.AddProfileAsync("survivor", MlxLmServer.EngineKey, FixtureCatalog.QwenThinking.RepoId);
                profileId = profile.Id;
                (await first.Supervisor.StartServerAsync(profileId, CancellationToken.None)).Succeeded.ShouldBeTrue();
                before = (await first.Supervisor.WaitUntilSettledAsync(profileId, CancellationToken.None).WaitAsync(LoadWait))!;
                before.State.ShouldBe(ServerState.Ready);
            }

            EngineProcesses.IsAlive(before.Process!.Value.Pid).ShouldBeTrue("the server keeps running when the manager stops");
            // While no manager runs, the engine goes on writing its output (here: a request's log line).
            (await Completions.AskAsync(before.ChatCompletionsUrl, before.Model.Reference, "while away [[tokens:2]]")).ShouldNotBeEmpty();

            await using var second = await SupervisorHost.StartAsync(world, output, folder);
            var found = second.Supervisor.Find(profileId).ShouldNotBeNull();
            found.Reattached.ShouldBeTrue();
            found.Process.ShouldBe(before.Process);
            found.RunId.ShouldBe(before.RunId);
            var ready = await second.Supervisor.WaitUntilSettledAsync(profileId, CancellationToken.None).WaitAsync(LoadWait);
            ready!.State.ShouldBe(ServerState.Ready, ready.Detail);
            second.Metrics.TrackedServers.ShouldContain(profileId);

            var log = second.Supervisor.ReadLog(profileId, 0, 2000)!.Lines;
            log.ShouldContain(l => l.FromManager && l.Text.StartsWith("Re-attached after a manager restart to pid", StringComparison.Ordinal));
            log.ShouldContain(l => !l.FromManager && l.Text.Contains("POST /v1/chat/completions", StringComparison.Ordinal),
                "what the engine wrote while no manager ran is in the log");
            var lastBefore = log[^1].Sequence;
            (await Completions.AskAsync(ready.ChatCompletionsUrl, ready.Model.Reference, "after [[tokens:2]]")).ShouldNotBeEmpty();
            await EngineProcesses.WaitUntilAsync(() => second.Supervisor.ReadLog(profileId, lastBefore, 100)!.Lines.Any(l => !l.FromManager),
                TimeSpan.FromSeconds(5), "the re-attached server's new output keeps arriving");
            var logFile = File.ReadAllLines(second.Supervisor.LogFileOf(profileId)!);
            logFile.Count(l => l.Contains("POST /v1/chat/completions", StringComparison.Ordinal)).ShouldBe(
                File.ReadAllLines(Path.ChangeExtension(second.Supervisor.LogFileOf(profileId)!, ".out")).Count(l => l.Contains("POST /v1/chat/completions", StringComparison.Ordinal)),
                "no output line is lost or repeated across the restart");

            var stopped = await second.Supervisor.StopServerAsync(profileId, CancellationToken.None);
            stopped.Server!.State.ShouldBe(ServerState.Stopped);
            await EngineProcesses.WaitUntilAsync(() => !EngineProcesses.IsAlive(before.Process.Value.Pid), TimeSpan.FromSeconds(10), "the re-attached server stops");
        }
        finally
        {
            SupervisorHost.DeleteFolder(folder);
        }
    }

    [Fact]
    public async Task ManagerRestart_WhenTheServerDiedMeanwhile_ShowsItFailedWithItsLastLines()
    {
        var folder = Directory.CreateTempSubdirectory("mlxm-reattach-").FullName;
        try
        {
            int profileId;
            ServerSnapshot before;
            await using (var first = await SupervisorHost.StartAsync(world, output, folder, stopServersOnExit: false))
            {
                var profile = await first.AddProfileAsync("casualty", MlxLmServer.EngineKey, FixtureCatalog.QwenThinking.RepoId);
                profileId = profile.Id;
                await first.Supervisor.StartServerAsync(profileId, CancellationToken.None);
                before = (await first.Supervisor.WaitUntilSettledAsync(profileId, CancellationToken.None).WaitAsync(LoadWait))!;
            }

            System.Diagnostics.Process.GetProcessById(before.Process!.Value.Pid).Kill();
            await EngineProcesses.WaitUntilAsync(() => !EngineProcesses.IsAlive(before.Process.Value.Pid), TimeSpan.FromSeconds(10), "killed");

            await using var second = await SupervisorHost.StartAsync(world, output, folder);
            var found = second.Supervisor.Find(profileId).ShouldNotBeNull();
            found.State.ShouldBe(ServerState.Failed);
            found.Detail.ShouldContain("ended while the manager was not running");
            found.FailureLines.ShouldNotBeEmpty();
            (await second.RunAsync(found.RunId))!.State.ShouldBe(ServerState.Failed);
        }
        finally
        {
            SupervisorHost.DeleteFolder(folder);
        }
    }

    [Fact]
    public async Task ManagerRestart_WithStopServersOnExit_LeavesNothingToReattach()
    {
        var folder = Directory.CreateTempSubdirectory("mlxm-reattach-").FullName;
        try
        {
            int profileId;
            ServerSnapshot before;
            await using (var first = await SupervisorHost.StartAsync(world, output, folder, stopServersOnExit: true))
            {
                var profile = await first.AddProfileAsync("tidy", MlxOpenAiServer.EngineKey, FixtureCatalog.QwenThinking.RepoId);
                profileId = profile.Id;
                await first.Supervisor.StartServerAsync(profileId, CancellationToken.None);
                before = (await first.Supervisor.WaitUntilSettledAsync(profileId, CancellationToken.None).WaitAsync(LoadWait))!;
                before.State.ShouldBe(ServerState.Ready);
            }

            EngineProcesses.IsAlive(before.Process!.Value.Pid).ShouldBeFalse();
            EngineProcesses.ServingPort(before.Profile.Port).ShouldBeEmpty();
            await using var second = await SupervisorHost.StartAsync(world, output, folder);
            second.Supervisor.Find(profileId).ShouldBeNull();
            (await second.RunAsync(before.RunId))!.State.ShouldBe(ServerState.Stopped);
        }
        finally
        {
            SupervisorHost.DeleteFolder(folder);
        }
    }

    [Fact]
    public async Task ManagerStart_StartsAutoStartProfiles()
    {
        var folder = Directory.CreateTempSubdirectory("mlxm-autostart-").FullName;
        try
        {
            int profileId;
            await using (var first = await SupervisorHost.StartAsync(world, output, folder))
            {
                profileId = (await first.AddProfileAsync("auto", MlxLmServer.EngineKey, FixtureCatalog.QwenThinking.RepoId, configure: p => p.AutoStart = true)).Id;
            }

            await using var second = await SupervisorHost.StartAsync(world, output, folder);
            await EngineProcesses.WaitUntilAsync(() => second.Supervisor.Find(profileId) is not null, TimeSpan.FromSeconds(10), "auto-start begins");
            var ready = await second.Supervisor.WaitUntilSettledAsync(profileId, CancellationToken.None).WaitAsync(LoadWait);
            ready!.State.ShouldBe(ServerState.Ready);
        }
        finally
        {
            SupervisorHost.DeleteFolder(folder);
        }
    }
}
