using MlxManager.Core.Metrics;
using MlxManager.Core.Servers;
using MlxManager.Core.Tests.Servers.Infrastructure;

namespace MlxManager.Core.Tests.Servers;

public sealed class CurrentRunsTests
{
    private readonly ServerEvents _events = new(new RecordingLogger<ServerEvents>());

    [Fact]
    public void Change_StampsTheSnapshotWithTheNextVersion_AndTellsObservers()
    {
        var runs = new CurrentRuns(_events);
        var run = TestRuns.New(TestRuns.MemoryProfile(3, 8003), 30);
        runs.Replace(run);
        var seen = new List<ServerSnapshot>();
        _events.Changed += seen.Add;

        runs.Change(run, r => r.Detail = "Loading the model.");

        var snapshot = seen.ShouldHaveSingleItem();
        snapshot.Detail.ShouldBe("Loading the model.");
        snapshot.Version.ShouldBe(_events.Version);
        runs.Get(3)!.Current.ShouldBeSameAs(snapshot);
    }

    [Fact]
    public void Replace_MakesTheNewRunCurrent_AndHandsBackTheOldOne()
    {
        var runs = new CurrentRuns(_events);
        var first = TestRuns.New(TestRuns.MemoryProfile(3, 8003), 30);
        var second = TestRuns.New(TestRuns.MemoryProfile(3, 8003), 31);

        runs.Replace(first).ShouldBeNull();
        runs.Replace(second).ShouldBeSameAs(first);

        runs.Get(3).ShouldBeSameAs(second);
        runs.All().ShouldBe([second]);
    }

    [Fact]
    public void RemoveEnded_RefusesAnActiveRun_AndForgetsAnEndedOne()
    {
        var runs = new CurrentRuns(_events);
        var run = TestRuns.New(TestRuns.MemoryProfile(3, 8003), 30);
        runs.Replace(run);

        runs.RemoveEnded(3).ShouldBeFalse("a starting server is active");
        runs.Change(run, r => r.State = ServerState.Failed);
        var seen = new List<ServerSnapshot>();
        _events.Changed += seen.Add;

        runs.RemoveEnded(3).ShouldBeTrue();

        runs.Get(3).ShouldBeNull();
        seen.ShouldHaveSingleItem().State.ShouldBe(ServerState.Failed);
    }

    [Fact]
    public void FindActiveByPid_FindsOnlyActiveRuns()
    {
        var runs = new CurrentRuns(_events);
        var run = TestRuns.New(TestRuns.MemoryProfile(3, 8003), 30);
        runs.Replace(run);
        runs.Change(run, r => r.Process = new ProcessIdentity(4242, 1));

        runs.FindActiveByPid(4242).ShouldBeSameAs(run);
        runs.Change(run, r => r.State = ServerState.Stopped);
        runs.FindActiveByPid(4242).ShouldBeNull();
    }
}
