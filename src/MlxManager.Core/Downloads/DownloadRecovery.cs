using Hangfire;

namespace MlxManager.Core.Downloads;

/// <summary>
/// The recurring Hangfire job (<see cref="RecurringJobId"/>, every minute, and once at start-up) that gives every open
/// download a live job: <see cref="DownloadQueue.RecoverAsync"/>. It runs on the general server's default queue, so
/// busy download workers never hold it up.
/// </summary>
public sealed class DownloadRecovery(DownloadQueue queue)
{
    public const string RecurringJobId = "downloads-recovery";

    /// <summary>Registers the recurring job and runs it now.</summary>
    public static void Schedule(IRecurringJobManager recurringJobs)
    {
        ArgumentNullException.ThrowIfNull(recurringJobs);
        recurringJobs.AddOrUpdate<DownloadRecovery>(RecurringJobId, recovery => recovery.RunAsync(CancellationToken.None), Cron.Minutely());
        recurringJobs.Trigger(RecurringJobId);
    }

    /// <summary>One pass; the next minute's run tries again if this one fails.</summary>
    [AutomaticRetry(Attempts = 0)]
    public Task RunAsync(CancellationToken cancellationToken) => queue.RecoverAsync(cancellationToken);
}
