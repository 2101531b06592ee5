using Microsoft.Extensions.DependencyInjection;
using MlxManager.Core.Servers;
using MlxManager.Core.Tests.Servers.Infrastructure;
using Xunit.Abstractions;

namespace MlxManager.Core.Tests.Servers;

[Collection(ServersCollection.Name)]
public sealed class RunTransitionsTests(EngineWorld world, ITestOutputHelper output) : SupervisorHostTest(world, output)
{
    private RunTransitions Transitions => Host.Services.GetRequiredService<RunTransitions>();

    [Fact]
    public async Task LoadingThenReady_MoveForwardOnly_AndSettleTheRun()
    {
        var run = TestRuns.WithLog(Host.DataFolder);

        Transitions.SetLoading(run, "Loading the model.");
        run.Current.State.ShouldBe(ServerState.Loading);
        run.Settled.IsCompleted.ShouldBeFalse();
        await Transitions.SetReadyAsync(run);
        Transitions.SetLoading(run, "Loading again?");

        run.Current.State.ShouldBe(ServerState.Ready);
        run.Current.ReadyAt.ShouldNotBeNull();
        run.Current.Detail.ShouldStartWith("Ready: answered a completion after ");
        run.Settled.IsCompleted.ShouldBeTrue();
        run.Log!.Tail(10).Select(l => l.Text).ShouldContain("The engine answers on its port; loading the model.");
    }

    [Fact]
    public async Task Fail_OfARunBeingStopped_IsNoFailure()
    {
        var run = TestRuns.WithLog(Host.DataFolder);
        run.StopReason = "Stopped on request.";

        await Transitions.FailAsync(run, "It did not answer in time.");

        run.Current.State.ShouldBe(ServerState.Starting);
    }

    [Fact]
    public async Task FailBeforeLaunch_EndsTheRunAsFailed_WithTheReasonInItsLog()
    {
        var run = TestRuns.WithLog(Host.DataFolder);

        await Transitions.FailBeforeLaunchAsync(run, "Port 1 is taken.");

        run.Current.State.ShouldBe(ServerState.Failed);
        run.Current.Detail.ShouldBe("Port 1 is taken.");
        run.Current.EndedAt.ShouldNotBeNull();
        run.Ended.IsCompleted.ShouldBeTrue();
        (await File.ReadAllTextAsync(run.LogPath)).ShouldContain(" * Not started: Port 1 is taken.");
    }
}
