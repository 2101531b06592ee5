using Hangfire;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MlxManager.Core.Data;

namespace MlxManager.Core.Usage;

/// <summary>
/// The recurring Hangfire job (<see cref="RecurringJobId"/>, daily at 00:00 UTC and once at start-up) that deletes ledger
/// rows older than <see cref="UsageOptions.RetentionDays"/>. The <see cref="UsageDailyTotal"/>s are not touched: they were
/// added to as the rows were written, so they stay whole.
/// </summary>
public sealed partial class UsageRetention(AppDbContext db, IOptions<UsageOptions> options, TimeProvider time, ILogger<UsageRetention> logger)
{
    public const string RecurringJobId = "usage-retention";

    /// <summary>Registers the recurring job and runs it now.</summary>
    public static void Schedule(IRecurringJobManager recurringJobs)
    {
        ArgumentNullException.ThrowIfNull(recurringJobs);
        recurringJobs.AddOrUpdate<UsageRetention>(RecurringJobId, retention => retention.RunAsync(CancellationToken.None), Cron.Daily());
        recurringJobs.Trigger(RecurringJobId);
    }

    /// <summary>Deletes the rows that started before now minus the retention; returns how many.</summary>
    [AutomaticRetry(Attempts = 0)]
    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        var cutoff = time.GetUtcNow().UtcDateTime.AddDays(-options.Value.RetentionDays);
        var deleted = await db.UsageRecords.Where(row => row.StartedAtUtc < cutoff).ExecuteDeleteAsync(cancellationToken).ConfigureAwait(false);
        LogDeleted(deleted, cutoff);
        return deleted;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Deleted {Count} usage rows that started before {Cutoff:u}; the daily totals stay")]
    private partial void LogDeleted(int count, DateTime cutoff);
}
