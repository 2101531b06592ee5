using MlxManager.Core.Engines;
using MlxManager.Core.Servers;
using MlxManager.Core.Tests.Servers.Infrastructure;
using MlxManager.ModelFixtures;
using Xunit.Abstractions;

namespace MlxManager.Core.Tests.Servers;

/// <summary>The commands a gateway builds on: a start shared by concurrent callers, and a stop that records why.</summary>
[Collection(ServersCollection.Name)]
public sealed class ServerSupervisorCommandsTests(EngineWorld world, ITestOutputHelper output) : SupervisorHostTest(world, output)
{
    private static readonly TimeSpan LoadWait = TimeSpan.FromSeconds(45);
    [Fact]
    public async Task StartAndWaitUntilReady_FiveCallersAtOnce_ShareOneRun()
    {
        var profile = await Host.AddProfileAsync("shared", MlxLmServer.EngineKey, FixtureCatalog.QwenThinking.RepoId, "EMULATOR_LOAD_RATE=20M");

        var results = await Task.WhenAll(Enumerable.Range(0, 5)
            .Select(_ => Task.Run(() => Host.Supervisor.StartAndWaitUntilReadyAsync(profile.Id, CancellationToken.None))))
            .WaitAsync(LoadWait);

        results.ShouldAllBe(r => r.Succeeded && r.Server!.State == ServerState.Ready);
        results.Select(r => r.Server!.RunId).Distinct().ShouldHaveSingleItem("one run, one process, for every caller");
        var ready = results[0].Server!;
        EngineProcesses.ServingPort(profile.Port).ShouldContain(ready.Process!.Value.Pid);
        (await Completions.AskAsync(ready.ChatCompletionsUrl, ready.Model.Reference, "hello [[tokens:3]]")).ShouldNotBeEmpty();
    }

    [Fact]
    public async Task StartAndWaitUntilReady_WhenTheEngineFails_EveryCallerGetsTheEnginesReason()
    {
        // The engine spends 3 s importing before it fails, and the other callers come once the first one's run is under
        // way: they find it starting, whatever the machine's load. (Callers that come after a failed start start anew.)
        var profile = await Host.AddProfileAsync("doomed", MlxVlmServer.EngineKey, FixtureCatalog.Unsupported.RepoId, "EMULATOR_IMPORT_SECONDS=3");
        var first = Host.Supervisor.StartAndWaitUntilReadyAsync(profile.Id, CancellationToken.None);
        await Eventually.WaitUntilAsync(() => Host.Supervisor.Find(profile.Id) is { IsActive: true }, LoadWait, "the first caller's run is starting");

        var results = await Task.WhenAll([first, .. Enumerable.Range(0, 2).Select(_ => Host.Supervisor.StartAndWaitUntilReadyAsync(profile.Id, CancellationToken.None))])
            .WaitAsync(LoadWait);

        results.ShouldAllBe(r => !r.Succeeded && r.Message.Contains("frobnicator"));
        results.Select(r => r.Server!.RunId).Distinct().ShouldHaveSingleItem();
    }

    [Fact]
    public async Task Stop_WithAReason_RecordsItAsTheDetail_WithTheRun_AndInTheLog()
    {
        var profile = await Host.AddProfileAsync("idle", MlxLmServer.EngineKey, FixtureCatalog.QwenThinking.RepoId);
        var ready = (await Host.Supervisor.StartAndWaitUntilReadyAsync(profile.Id, CancellationToken.None).WaitAsync(LoadWait)).Server!;

        var stopped = await Host.Supervisor.StopServerAsync(profile.Id, "Unloaded after 30 min idle.", CancellationToken.None);

        stopped.Succeeded.ShouldBeTrue(stopped.Message);
        stopped.Server!.State.ShouldBe(ServerState.Stopped);
        stopped.Server.Detail.ShouldBe("Unloaded after 30 min idle.");
        (await Host.RunAsync(ready.RunId))!.Reason.ShouldBe("Unloaded after 30 min idle.");
        (await File.ReadAllTextAsync(Host.Supervisor.LogFileOf(profile.Id)!)).ShouldContain(" * Stop requested: Unloaded after 30 min idle.");
    }
}
