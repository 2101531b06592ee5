using MlxManager.Core.Gateway;
using MlxManager.Core.Usage;

namespace MlxManager.Core.Tests.Gateway;

public class GatewayLanesTests
{
    private readonly GatewayLanes _lanes = new(TimeProvider.System);

    [Fact]
    public async Task Waiters_GetTheirTurn_FirstComeFirstServed()
    {
        using var first = _lanes.Join(1);
        await first.WaitForTurnAsync("p", maxConcurrent: 1, maxQueue: 8, CancellationToken.None);
        var order = new List<int>();
        var tickets = Enumerable.Range(1, 3).Select(_ => _lanes.Join(1)).ToList();
        var waits = tickets.Select((ticket, i) => ticket.WaitForTurnAsync("p", 1, 8, CancellationToken.None).ContinueWith(_ =>
        {
            lock (order)
            {
                order.Add(i);
            }

            ticket.Dispose(); // done at once: passes the slot on
        }, TaskScheduler.Default)).ToList();

        first.Dispose();
        await Task.WhenAll(waits);

        order.ShouldBe([0, 1, 2]);
        _lanes.InFlight(1).ShouldBe(0);
        _lanes.LastUsed(1).ShouldNotBeNull();
    }

    [Fact]
    public async Task BeyondTheQueue_Is429_AndACancelledWaiterLeavesTheLine()
    {
        using var running = _lanes.Join(2);
        await running.WaitForTurnAsync("p", 1, 1, CancellationToken.None);
        using var leaving = new CancellationTokenSource();
        var waiter = _lanes.Join(2);
        var wait = waiter.WaitForTurnAsync("p", 1, 1, leaving.Token);
        using var refused = _lanes.Join(2);

        var error = await Should.ThrowAsync<GatewayException>(refused.WaitForTurnAsync("p", 1, 1, CancellationToken.None));

        error.Status.ShouldBe(429);
        error.RetryAfterSeconds.ShouldBe(1);
        leaving.Cancel();
        await Should.ThrowAsync<OperationCanceledException>(wait);
        waiter.Dispose();
        using var next = _lanes.Join(2);
        var nextWait = next.WaitForTurnAsync("p", 1, 1, CancellationToken.None);
        nextWait.IsCompleted.ShouldBeFalse("the cancelled waiter left its place; the slot is still taken");
        running.Dispose();
        await nextWait;
    }

    [Fact]
    public async Task ATicketDisposedWhileItWaits_LeavesTheLine_AndTheSlotGoesToTheNext()
    {
        var running = _lanes.Join(7);
        await running.WaitForTurnAsync("p", 1, 8, CancellationToken.None);
        var abandoned = _lanes.Join(7);
        _ = abandoned.WaitForTurnAsync("p", 1, 8, CancellationToken.None);
        using var next = _lanes.Join(7);
        var nextTurn = next.WaitForTurnAsync("p", 1, 8, CancellationToken.None);

        abandoned.Dispose(); // its wait neither awaited nor cancelled
        running.Dispose();

        await nextTurn; // the slot skipped the abandoned place
        _lanes.Requests().Select(r => r.Running).ShouldBe([true]);
    }

    [Fact]
    public async Task AClaimedLane_HoldsArrivingRequests_UntilTheClaimEnds()
    {
        var claim = _lanes.TryClaim(3);
        claim.ShouldNotBeNull();
        _lanes.TryClaim(3).ShouldBeNull("one claim at a time");
        using var arriving = _lanes.Join(3);

        var wait = arriving.WaitForTurnAsync("p", 8, 8, CancellationToken.None);

        wait.IsCompleted.ShouldBeFalse("the server is being stopped; the request waits instead of reaching it");
        _lanes.InFlight(3).ShouldBe(1, "the waiting request counts: nothing else may stop the server meanwhile");
        claim.Dispose();
        await wait;
    }

    [Fact]
    public void DisposingAnEndedClaimAgain_LeavesTheNextClaimInPlace()
    {
        var first = _lanes.TryClaim(6)!;
        first.Dispose();
        using var second = _lanes.TryClaim(6);

        first.Dispose();

        second.ShouldNotBeNull();
        _lanes.TryClaim(6).ShouldBeNull("the second claim still holds the lane");
    }

    [Fact]
    public void ALaneHoldingRequests_CannotBeClaimed()
    {
        using var running = _lanes.Join(4);

        _lanes.TryClaim(4).ShouldBeNull();
    }

    [Fact]
    public void RequestsServed_AreCountedPerRun()
    {
        using (var first = _lanes.Join(5))
        {
            first.Forwarded(runId: 10);
        }

        using (var second = _lanes.Join(5))
        {
            second.Forwarded(runId: 10);
        }

        _lanes.Served(5, 10).ShouldBe(2);
        using var afterRestart = _lanes.Join(5);
        afterRestart.Forwarded(runId: 11);
        _lanes.Served(5, 11).ShouldBe(1, "a new run starts counting from zero");
        _lanes.Served(5, 10).ShouldBe(0);
    }

    [Fact]
    public async Task Requests_NameWhoseRequestsTheLanesHold_RunningOrWaiting_UntilTheyEnd()
    {
        var alice = new LaneUser("alice", UsageSource.Gateway);
        var bob = new LaneUser("bob", UsageSource.Chat);
        var running = _lanes.Join(3, user: alice);
        await running.WaitForTurnAsync("p", 1, 8, CancellationToken.None);
        using var waiting = _lanes.Join(3, RequestPriority.Batch, bob);
        var wait = waiting.WaitForTurnAsync("p", 1, 8, CancellationToken.None);

        var held = _lanes.Requests();

        held.Select(r => (r.ProfileId, r.User, r.Running)).ShouldBe([(3, alice, true), (3, bob, false)]);
        running.Dispose();
        await wait;
        _lanes.Requests().Select(r => (r.User, r.Running)).ShouldBe([(bob, true)], "alice's request ended; bob's got the slot");
    }
}

public class GatewayLanePriorityTests
{
    private readonly GatewayLanes _lanes = new(TimeProvider.System);

    [Fact]
    public async Task ABatchRequest_WaitsWhileInteractiveOnesAreQueued_EvenWhenItCameFirst()
    {
        using var running = _lanes.Join(1);
        await running.WaitForTurnAsync("p", 1, 8, CancellationToken.None);
        var order = new List<string>();
        Task Queue(string name, RequestPriority priority)
        {
            var ticket = _lanes.Join(1, priority);
            return ticket.WaitForTurnAsync("p", 1, 8, CancellationToken.None).ContinueWith(_ =>
            {
                lock (order)
                {
                    order.Add(name);
                }

                ticket.Dispose();
            }, TaskScheduler.Default);
        }

        var waits = new[]
        {
            Queue("batch 1", RequestPriority.Batch),
            Queue("interactive 1", RequestPriority.Interactive),
            Queue("batch 2", RequestPriority.Batch),
            Queue("interactive 2", RequestPriority.Interactive),
        };

        running.Dispose();
        await Task.WhenAll(waits);

        order.ShouldBe(["interactive 1", "interactive 2", "batch 1", "batch 2"]);
    }

    [Fact]
    public async Task ABatchRequest_DoesNotJumpAheadOfQueuedInteractiveOnes_WhenASlotIsFree()
    {
        using var running = _lanes.Join(2);
        await running.WaitForTurnAsync("p", 1, 8, CancellationToken.None);
        using var interactive = _lanes.Join(2);
        var interactiveWait = interactive.WaitForTurnAsync("p", 1, 8, CancellationToken.None);
        using var batch = _lanes.Join(2, RequestPriority.Batch);
        var batchWait = batch.WaitForTurnAsync("p", 1, 8, CancellationToken.None);

        running.Dispose();
        await interactiveWait;

        batchWait.IsCompleted.ShouldBeFalse("the slot went to the interactive request, which still runs");
        interactive.Dispose();
        await batchWait;
    }

    [Fact]
    public async Task TheQueueLimit_CountsBatchAndInteractiveTogether()
    {
        using var running = _lanes.Join(3);
        await running.WaitForTurnAsync("p", 1, 2, CancellationToken.None);
        using var batch = _lanes.Join(3, RequestPriority.Batch);
        var batchWait = batch.WaitForTurnAsync("p", 1, 2, CancellationToken.None);
        using var interactive = _lanes.Join(3);
        var interactiveWait = interactive.WaitForTurnAsync("p", 1, 2, CancellationToken.None);
        using var refused = _lanes.Join(3);

        (await Should.ThrowAsync<GatewayException>(refused.WaitForTurnAsync("p", 1, 2, CancellationToken.None))).Status.ShouldBe(429);
        running.Dispose();
        await interactiveWait;
        interactive.Dispose();
        await batchWait;
    }
}
