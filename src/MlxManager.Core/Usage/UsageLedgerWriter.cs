using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using MlxManager.Core.Data;
using MlxManager.Core.Platform;

namespace MlxManager.Core.Usage;

/// <summary>
/// Writes what <see cref="UsageLedger"/> queues: <see cref="GatherDelay"/> after a row arrives, what waits then, up to
/// <see cref="MaxBatch"/> rows per transaction together with their <see cref="UsageDailyTotal"/>s. The only writer of both tables' new rows, so the
/// totals need no locking. Drains the queue at shutdown.
/// </summary>
public sealed partial class UsageLedgerWriter(UsageLedger ledger, IServiceScopeFactory scopes, TimeProvider time, ILogger<UsageLedgerWriter> logger)
    : DrainingBackgroundService
{
    public const int MaxBatch = 500;

    /// <summary>How long the writer lets rows gather once the first one is queued.</summary>
    public static readonly TimeSpan GatherDelay = TimeSpan.FromMilliseconds(200);

    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(1);
    private const int Attempts = 3;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (await ledger.Queue.WaitToReadAsync(stoppingToken))
            {
                // Gather what comes in the next moment: one transaction for many requests costs the machine far less
                // than one per request, and nobody reads the rows within a fraction of a second.
                await Task.Delay(GatherDelay, time, stoppingToken);

                // Not cancelled by shutdown: a batch taken from the queue is written, or it would be lost.
                await WriteWaitingAsync(CancellationToken.None);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down: StopAsync writes what is left.
        }
    }

    protected override Task DrainAsync(CancellationToken cancellationToken) => WriteWaitingAsync(cancellationToken);

    private async Task WriteWaitingAsync(CancellationToken cancellationToken)
    {
        var batch = new List<UsageRecord>(MaxBatch);
        while (true)
        {
            while (batch.Count < MaxBatch && ledger.Queue.TryRead(out var row))
            {
                batch.Add(row);
            }

            if (batch.Count == 0)
            {
                return;
            }

            await WriteWithRetriesAsync(batch, cancellationToken);
            batch.Clear();
        }
    }

    private async Task WriteWithRetriesAsync(List<UsageRecord> batch, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await WriteAsync(batch, cancellationToken);
                return;
            }
            catch (Exception exception) when (exception is DbUpdateException or Microsoft.Data.Sqlite.SqliteException && attempt < Attempts)
            {
                LogRetrying(exception, batch.Count);
                await Task.Delay(RetryDelay, time, cancellationToken);
            }
            catch (Exception exception) when (exception is DbUpdateException or Microsoft.Data.Sqlite.SqliteException)
            {
                LogLost(exception, batch.Count);
                return;
            }
        }
    }

    private async Task WriteAsync(List<UsageRecord> batch, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        foreach (var row in batch)
        {
            row.Id = 0; // a retried batch is added again
        }

        db.UsageRecords.AddRange(batch);
        foreach (var group in batch.GroupBy(row => (row.Day, row.UserId, row.ApiKeyId, row.Source, row.Model)))
        {
            var (day, userId, keyId, source, model) = group.Key;
            var total = await db.UsageDailyTotals.FirstOrDefaultAsync(
                t => t.Day == day && t.UserId == userId && t.ApiKeyId == keyId && t.Source == source && t.Model == model, cancellationToken);
            if (total is null)
            {
                total = new UsageDailyTotal { Day = day, UserId = userId, ApiKeyId = keyId, Source = source, Model = model };
                db.UsageDailyTotals.Add(total);
            }

            foreach (var row in group)
            {
                total.Add(row);
            }
        }

        await db.SaveChangesAsync(cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not write {Count} usage rows; trying again")]
    private partial void LogRetrying(Exception exception, int count);

    [LoggerMessage(Level = LogLevel.Error, Message = "Could not write {Count} usage rows; they are lost")]
    private partial void LogLost(Exception exception, int count);
}
