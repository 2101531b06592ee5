using Microsoft.Extensions.Logging;

namespace MlxManager.Core.Servers;

/// <summary>
/// Work the supervisor's parts start in the background (ending a failed engine, cleaning up what a crashed engine
/// left of its process group, a readiness probe, saving a run's state). Nothing is fire-and-forget: every task is kept
/// until it ends, an exception it throws is logged, and the supervisor's shutdown waits for those still running.
/// </summary>
internal sealed partial class SupervisorWork(ILogger<SupervisorWork> logger)
{
    private readonly Lock _lock = new();
    private readonly List<Task> _tasks = [];

    /// <summary>Starts <paramref name="work"/> on the thread pool; <paramref name="what"/> names it in the log if it throws.</summary>
    public void Run(string what, Func<Task> work) => Start(what, work);

    /// <summary>Like <see cref="Run"/>, for a caller that also waits for it: the returned task never faults.</summary>
    public Task Start(string what, Func<Task> work)
    {
        var task = Task.Run(() => ObserveAsync(what, work), CancellationToken.None);
        lock (_lock)
        {
            _tasks.RemoveAll(t => t.IsCompleted);
            _tasks.Add(task);
        }

        return task;
    }

    /// <summary>Waits until every task started so far has ended (or <paramref name="cancellationToken"/> gives up).</summary>
    public Task WhenIdleAsync(CancellationToken cancellationToken)
    {
        Task[] tasks;
        lock (_lock)
        {
            tasks = [.. _tasks];
        }

        return Task.WhenAll(tasks).WaitAsync(cancellationToken);
    }

    private async Task ObserveAsync(string what, Func<Task> work)
    {
        try
        {
            await work().ConfigureAwait(false);
        }
        catch (Exception e)
        {
            LogWorkFailed(logger, what, e);
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Background work of the supervisor failed: {What}")]
    private static partial void LogWorkFailed(ILogger logger, string what, Exception exception);
}
