using Microsoft.Extensions.Logging;
using MlxManager.Core.Servers;
using MlxManager.Core.Tests.Servers.Infrastructure;

namespace MlxManager.Core.Tests.Servers;

public sealed class SupervisorWorkTests
{
    [Fact]
    public async Task Run_AFailingTask_IsLoggedWithWhatItWas_AndNeverThrowsToTheWaiter()
    {
        var logger = new RecordingLogger<SupervisorWork>();
        var work = new SupervisorWork(logger);

        var started = work.Start("ending the failed server of demo", () => throw new InvalidOperationException("boom"));
        await started;
        await work.WhenIdleAsync(CancellationToken.None);

        started.IsCompletedSuccessfully.ShouldBeTrue();
        var entry = logger.Entries.ShouldHaveSingleItem();
        entry.Level.ShouldBe(LogLevel.Error);
        entry.Message.ShouldContain("ending the failed server of demo");
        entry.Exception.ShouldBeOfType<InvalidOperationException>().Message.ShouldBe("boom");
    }

    [Fact]
    public async Task WhenIdle_WaitsForEveryTaskStillRunning()
    {
        var work = new SupervisorWork(new RecordingLogger<SupervisorWork>());
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var finished = false;
        work.Run("quick", () => Task.CompletedTask);
        work.Run("slow", async () =>
        {
            await release.Task;
            finished = true;
        });

        var idle = work.WhenIdleAsync(CancellationToken.None);
        idle.IsCompleted.ShouldBeFalse("the slow task has not been released");
        release.SetResult();
        await idle;

        finished.ShouldBeTrue();
    }
}
