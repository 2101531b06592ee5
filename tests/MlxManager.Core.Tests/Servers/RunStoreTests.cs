using Microsoft.Extensions.DependencyInjection;
using MlxManager.Core.Engines;
using MlxManager.Core.Profiles;
using MlxManager.Core.Servers;
using MlxManager.Core.Tests.Servers.Infrastructure;
using MlxManager.ModelFixtures;
using Xunit.Abstractions;

namespace MlxManager.Core.Tests.Servers;

[Collection(ServersCollection.Name)]
public sealed class RunStoreTests(EngineWorld world, ITestOutputHelper output) : SupervisorHostTest(world, output)
{
    private RunStore Store => Host.Services.GetRequiredService<RunStore>();

    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?> { ["MlxManager:Servers:KeepRunsPerProfile"] = "2" };

    [Fact]
    public async Task Create_AddsTheRowWithItsFiles_AndKeepsOnlyTheNewestRunsWithAllTheirFiles()
    {
        var profile = await Host.AddProfileAsync("kept", MlxLmServer.EngineKey, FixtureCatalog.QwenThinking.RepoId);
        var first = await Store.CreateAsync(profile, MlxLmServer.EngineKey, DateTimeOffset.UtcNow, CancellationToken.None);
        await EndAsync(profile, first);
        await File.WriteAllTextAsync(first.LogPath, "log");
        await File.WriteAllTextAsync(RunLog.RotatedPath(first.LogPath), "older log");
        await File.WriteAllTextAsync(first.OutputPath, "output");

        var second = await Store.CreateAsync(profile, MlxLmServer.EngineKey, DateTimeOffset.UtcNow, CancellationToken.None);
        await EndAsync(profile, second);
        var third = await Store.CreateAsync(profile, MlxLmServer.EngineKey, DateTimeOffset.UtcNow, CancellationToken.None);

        third.LogPath.ShouldBe(Path.Combine(Store.LogFolderOf(profile.Id), $"{third.Id}.log"));
        third.OutputPath.ShouldBe(Path.Combine(Store.LogFolderOf(profile.Id), $"{third.Id}.out"));
        Directory.Exists(third.WorkingDirectory).ShouldBeTrue();
        (await Host.RunAsync(first.Id)).ShouldBeNull("only the newest two runs are kept");
        (await Host.RunAsync(second.Id)).ShouldNotBeNull();
        File.Exists(first.LogPath).ShouldBeFalse();
        File.Exists(RunLog.RotatedPath(first.LogPath)).ShouldBeFalse("the rotated part goes with its run");
        File.Exists(first.OutputPath).ShouldBeFalse();
        Directory.Exists(first.WorkingDirectory).ShouldBeFalse();
    }

    [Fact]
    public async Task Create_NeverRotatesAwayAnActiveRun()
    {
        var profile = await Host.AddProfileAsync("busy", MlxLmServer.EngineKey, FixtureCatalog.QwenThinking.RepoId);
        var active = await Store.CreateAsync(profile, MlxLmServer.EngineKey, DateTimeOffset.UtcNow, CancellationToken.None);

        for (var i = 0; i < 3; i++)
        {
            await EndAsync(profile, await Store.CreateAsync(profile, MlxLmServer.EngineKey, DateTimeOffset.UtcNow, CancellationToken.None));
        }

        (await Host.RunAsync(active.Id)).ShouldNotBeNull().State.ShouldBe(ServerState.Starting);
    }

    private async Task EndAsync(Profile profile, ServerRun row)
    {
        var run = TestRuns.New(profile, row.Id, row.LogPath, row.OutputPath);
        run.Change(1, r =>
        {
            r.State = ServerState.Stopped;
            r.Detail = "Stopped on request.";
        });

        await Store.SaveAsync(run);

        var saved = (await Host.RunAsync(row.Id))!;
        saved.State.ShouldBe(ServerState.Stopped);
        saved.Reason.ShouldBe("Stopped on request.");
    }
}
