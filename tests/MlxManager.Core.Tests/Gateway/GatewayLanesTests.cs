using MlxManager.Core.Gateway;

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
}
