using MlxManager.Core.Platform;

namespace MlxManager.Core.Tests.Platform;

public sealed class DrainingBackgroundServiceTests
{
    [Fact]
    public async Task TwoStopsAtOnce_DrainOnce_AndBothWaitForIt()
    {
        var service = new Holder();
        await service.StartAsync(CancellationToken.None);

        var first = service.StopAsync(CancellationToken.None);
        var second = service.StopAsync(CancellationToken.None);
        await service.DrainStarted.Task.WaitAsync(TimeSpan.FromSeconds(10));

        first.IsCompleted.ShouldBeFalse("the first stop waits for the drain");
        second.IsCompleted.ShouldBeFalse("so does the second: its caller may dispose the services next");
        service.Release.SetResult();
        await Task.WhenAll(first, second).WaitAsync(TimeSpan.FromSeconds(10));
        service.Drains.ShouldBe(1);
        service.RunningWhenDrained.ShouldBeFalse("the drain comes after the work loop ended");
    }

    private sealed class Holder : DrainingBackgroundService
    {
        public TaskCompletionSource DrainStarted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public int Drains { get; private set; }

        public bool RunningWhenDrained { get; private set; }

        private volatile bool _running;

        protected override async Task ExecuteAsync(CancellationToken stoppingToken)
        {
            _running = true;
            try
            {
                await Task.Delay(Timeout.Infinite, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                // Stopping.
            }
            finally
            {
                _running = false;
            }
        }

        protected override async Task DrainAsync(CancellationToken cancellationToken)
        {
            Drains++;
            RunningWhenDrained = _running;
            DrainStarted.SetResult();
            await Release.Task;
        }
    }
}
