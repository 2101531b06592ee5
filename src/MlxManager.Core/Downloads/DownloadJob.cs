using System.Text;
using Hangfire;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MlxManager.Core.Data;
using MlxManager.Core.Hub;

namespace MlxManager.Core.Downloads;

/// <summary>
/// The Hangfire job of one <see cref="Download"/> record, on the <see cref="HangfireQueue"/> queue (whose server has
/// <see cref="DownloadOptions.MaxConcurrent"/> workers): runs with no page open and again after a restart (a job left
/// mid-run is requeued at the next start). One run per repository at a time, whatever the job storage does (a job
/// outliving its invisibility timeout is handed out twice): the run takes the in-process repository lock
/// (<see cref="DownloadRuns"/>) and the record's lease (<see cref="DownloadLease"/>), renewed at every progress write;
/// a run that gets neither leaves at once. Progress goes to the record a few times a second and to the
/// <see cref="DownloadBoard"/>; pause and cancel requests are read back at the same moments.
/// </summary>
public sealed partial class DownloadJob(
    IServiceScopeFactory scopes,
    ModelDownloader downloader,
    DownloadRuns runs,
    DownloadBoard board,
    IOptions<DownloadOptions> options,
    TimeProvider time,
    ILogger<DownloadJob> logger)
{
    /// <summary>The Hangfire queue of download jobs, served by a server of its own.</summary>
    public const string HangfireQueue = "downloads";

    private readonly DownloadOptions _options = options.Value;

    /// <summary>Runs (or continues) download <paramref name="downloadId"/>. <paramref name="cancellationToken"/> is the server's shutdown.</summary>
    [AutomaticRetry(Attempts = 0)]
    [Queue(HangfireQueue)]
    public async Task RunAsync(int downloadId, CancellationToken cancellationToken)
    {
        Download? record;
        await using (var scope = scopes.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
            record = await db.Downloads.AsNoTracking().FirstOrDefaultAsync(d => d.Id == downloadId, cancellationToken).ConfigureAwait(false);
            if (record is null)
            {
                LogMissing(logger, downloadId);
                return;
            }

            if (!record.IsActive || record.Dismissed)
            {
                // Paused or cancelled while its job waited for a worker.
                LogNothingToDo(logger, downloadId, record.RepoId, record.State);
                return;
            }
        }

        using var run = runs.TryBegin(downloadId, record.RepoId);
        if (run is null)
        {
            LogAlreadyRunningHere(logger, downloadId, record.RepoId);
            return;
        }

        var lease = DownloadLease.ForThisProcess(Guid.NewGuid().ToString("N"));
        await using (var scope = scopes.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
            if (!await DownloadLeases.TryClaimAsync(db, downloadId, lease, _options.LeaseDuration, Now, cancellationToken).ConfigureAwait(false))
            {
                LogHeldElsewhere(logger, downloadId, record.RepoId);
                return;
            }
        }

        try
        {
            await RunClaimedAsync(downloadId, run, lease, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            await using (var scope = scopes.CreateAsyncScope())
            {
                var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
                await DownloadLeases.ReleaseAsync(db, downloadId, lease, CancellationToken.None).ConfigureAwait(false);
            }

            board.Notify();
        }
    }

    private DateTime Now => time.GetUtcNow().UtcDateTime;

    private async Task RunClaimedAsync(int downloadId, DownloadRuns.Run run, DownloadLease lease, CancellationToken shutdown)
    {
        Download record;
        await using (var scope = scopes.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
            record = await db.Downloads.FirstAsync(d => d.Id == downloadId, shutdown).ConfigureAwait(false);
            if (!record.IsActive)
            {
                return;
            }

            var now = Now;
            record.State = DownloadState.Downloading;
            record.Runs++;
            record.StartedAtUtc ??= now;
            record.UpdatedAtUtc = now;
            await db.SaveChangesAsync(shutdown).ConfigureAwait(false);
        }

        LogStarted(logger, downloadId, record.RepoId, record.Runs);
        board.Notify();
        if (record.StopRequest != DownloadStopRequest.None)
        {
            run.Stop(record.StopRequest == DownloadStopRequest.Cancel ? DownloadStopReason.Cancel : DownloadStopReason.Pause);
        }

        var progress = new DownloadProgress();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(shutdown, run.Stopping);
        using var reporting = new CancellationTokenSource();
        var reporter = ReportAsync(downloadId, run, lease, progress, reporting.Token);
        DownloadPlan? plan = DownloadPlan.FromJson(record.PlanJson);
        try
        {
            if (plan is null || plan.Commit != record.Commit)
            {
                plan = await downloader.PlanAsync(record.RepoId, record.Revision, record.Commit, stop.Token).ConfigureAwait(false);
                await UpdateAsync(downloadId, run, lease, d =>
                {
                    d.Commit = plan.Commit;
                    d.PlanJson = plan.ToJson();
                    d.TotalBytes = plan.TotalBytes;
                    d.FileCount = plan.Files.Count;
                }).ConfigureAwait(false);
            }

            await downloader.DownloadAsync(plan, progress, stop.Token).ConfigureAwait(false);
            await StopReportingAsync(reporting, reporter).ConfigureAwait(false);
            await FinishAsync(downloadId, lease, DownloadState.Completed, null, d =>
            {
                d.CompletedBytes = d.TotalBytes;
                d.FilesDone = d.FileCount;
            }).ConfigureAwait(false);
            LogCompleted(logger, downloadId, record.RepoId);
        }
        catch (OperationCanceledException) when (run.Reason is DownloadStopReason.Pause or DownloadStopReason.Cancel && !shutdown.IsCancellationRequested)
        {
            await StopReportingAsync(reporting, reporter).ConfigureAwait(false);
            if (run.Reason == DownloadStopReason.Cancel)
            {
                downloader.RemovePartials(record.RepoId, plan);
                await FinishAsync(downloadId, lease, DownloadState.Cancelled, null, null).ConfigureAwait(false);
            }
            else
            {
                await FinishAsync(downloadId, lease, DownloadState.Paused, null, d => d.CompletedBytes = progress.CompletedBytes).ConfigureAwait(false);
            }

            LogStoppedOnRequest(logger, downloadId, record.RepoId, run.Reason);
        }
        catch (OperationCanceledException) when (run.Reason == DownloadStopReason.LeaseLost && !shutdown.IsCancellationRequested)
        {
            // Another run owns the record now; it carries on from the same files.
            await StopReportingAsync(reporting, reporter).ConfigureAwait(false);
            LogLeaseLost(logger, downloadId, record.RepoId);
        }
        catch (OperationCanceledException) when (shutdown.IsCancellationRequested)
        {
            // The app is stopping: the record stays "downloading" and the job storage hands the job to the next start.
            await StopReportingAsync(reporting, reporter).ConfigureAwait(false);
            LogInterrupted(logger, downloadId, record.RepoId, progress.CompletedBytes);
            throw;
        }
        catch (Exception exception) when (exception is DownloadFailedException or HubException)
        {
            await StopReportingAsync(reporting, reporter).ConfigureAwait(false);
            LogFailed(logger, exception, downloadId, record.RepoId, exception.Message);
            await FinishAsync(downloadId, lease, DownloadState.Failed, exception.Message, d => d.CompletedBytes = progress.CompletedBytes).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            await StopReportingAsync(reporting, reporter).ConfigureAwait(false);
            LogCrashed(logger, exception, downloadId, record.RepoId);
            await FinishAsync(downloadId, lease, DownloadState.Failed, $"Unexpected error: {exception.GetType().Name}: {exception.Message}", d => d.CompletedBytes = progress.CompletedBytes).ConfigureAwait(false);
        }
    }

    /// <summary>Every <see cref="DownloadOptions.ProgressInterval"/>: progress and lease to the record, stop requests back.</summary>
    private async Task ReportAsync(int downloadId, DownloadRuns.Run run, DownloadLease lease, DownloadProgress progress, CancellationToken cancellationToken)
    {
        var rate = new TransferRate();
        var owner = lease.ToString();

        using var timer = new PeriodicTimer(_options.ProgressInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                try
                {
                    if (!await ReportOnceAsync(downloadId, run, owner, progress, rate, cancellationToken).ConfigureAwait(false))
                    {
                        return;
                    }
                }
                catch (Exception exception) when (exception is DbUpdateException or Microsoft.Data.Sqlite.SqliteException or InvalidOperationException)
                {
                    // A busy or briefly unavailable database must not stop the transfer; the next tick writes again.
                    LogReportFailed(logger, exception, downloadId);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            LogReportingStopped(logger, downloadId);
        }
    }

    /// <summary>One progress write; false when the lease was lost (the run has been told to stop).</summary>
    private async Task<bool> ReportOnceAsync(int downloadId, DownloadRuns.Run run, string owner, DownloadProgress progress, TransferRate rate, CancellationToken cancellationToken)
    {
        var snapshot = progress.Snapshot();
        var now = Now;
        rate.Sample(snapshot.ReceivedBytes, time.GetUtcNow());
        var eta = rate.Eta(snapshot.TotalBytes - snapshot.CompletedBytes);
        var state = snapshot.Phase switch
        {
            DownloadPhase.Finishing => DownloadState.Verifying,
            DownloadPhase.Checking => DownloadState.Verifying,
            _ when snapshot.ActiveFiles.Count > 0 && snapshot.ActiveFiles.All(f => f.Checking) => DownloadState.Verifying,
            _ => DownloadState.Downloading,
        };
        var current = CurrentFiles(snapshot);
        var expires = now + _options.LeaseDuration;
        int rows;
        DownloadStopRequest request;
        await using (var scope = scopes.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
            rows = await db.Downloads
                .Where(d => d.Id == downloadId && d.LeaseOwner == owner)
                .ExecuteUpdateAsync(s => s
                    .SetProperty(d => d.State, state)
                    .SetProperty(d => d.CompletedBytes, snapshot.CompletedBytes)
                    .SetProperty(d => d.TotalBytes, d => snapshot.TotalBytes > 0 ? snapshot.TotalBytes : d.TotalBytes)
                    .SetProperty(d => d.FileCount, d => snapshot.Files > 0 ? snapshot.Files : d.FileCount)
                    .SetProperty(d => d.FilesDone, snapshot.FilesDone)
                    .SetProperty(d => d.BytesPerSecond, Math.Round(rate.BytesPerSecond))
                    .SetProperty(d => d.EtaSeconds, eta is { } left ? (int)Math.Ceiling(left.TotalSeconds) : null)
                    .SetProperty(d => d.CurrentFiles, current)
                    .SetProperty(d => d.LeaseExpiresAtUtc, expires)
                    .SetProperty(d => d.UpdatedAtUtc, now), cancellationToken)
                .ConfigureAwait(false);
            request = rows == 0
                ? DownloadStopRequest.None
                : await db.Downloads.Where(d => d.Id == downloadId).Select(d => d.StopRequest).FirstAsync(cancellationToken).ConfigureAwait(false);
        }

        if (rows == 0)
        {
            run.Stop(DownloadStopReason.LeaseLost);
            return false;
        }

        if (request != DownloadStopRequest.None)
        {
            run.Stop(request == DownloadStopRequest.Cancel ? DownloadStopReason.Cancel : DownloadStopReason.Pause);
        }

        board.Notify();
        return true;
    }

    private static async Task StopReportingAsync(CancellationTokenSource reporting, Task reporter)
    {
        await reporting.CancelAsync().ConfigureAwait(false);
        await reporter.ConfigureAwait(false);
    }

    private static string? CurrentFiles(DownloadProgressSnapshot snapshot)
    {
        if (snapshot.ActiveFiles.Count == 0)
        {
            return snapshot.Phase == DownloadPhase.Finishing ? "linking the snapshot" : null;
        }

        var text = new StringBuilder();
        foreach (var file in snapshot.ActiveFiles)
        {
            var entry = (file.Checking ? "checking " : string.Empty) + file.Path;
            if (text.Length + entry.Length + 2 > 1000)
            {
                text.Append(", …");
                break;
            }

            if (text.Length > 0)
            {
                text.Append(", ");
            }

            text.Append(entry);
        }

        return text.ToString();
    }

    private async Task UpdateAsync(int downloadId, DownloadRuns.Run run, DownloadLease lease, Action<Download> change)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var owner = lease.ToString();
        var record = await db.Downloads.FirstOrDefaultAsync(d => d.Id == downloadId && d.LeaseOwner == owner).ConfigureAwait(false);
        if (record is null)
        {
            run.Stop(DownloadStopReason.LeaseLost);
            throw new OperationCanceledException("the download record was taken over by another run");
        }

        change(record);
        record.UpdatedAtUtc = Now;
        await db.SaveChangesAsync().ConfigureAwait(false);
    }

    private async Task FinishAsync(int downloadId, DownloadLease lease, DownloadState state, string? error, Action<Download>? change)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var owner = lease.ToString();
        var record = await db.Downloads.FirstOrDefaultAsync(d => d.Id == downloadId && d.LeaseOwner == owner).ConfigureAwait(false);
        if (record is null)
        {
            LogLeaseLost(logger, downloadId, "?");
            return;
        }

        change?.Invoke(record);
        DownloadQueue.Finish(record, state, error, Now);

        // The lease goes in the same write as the final state: nobody reads a finished download that a run still holds.
        record.LeaseOwner = null;
        record.LeaseExpiresAtUtc = null;
        await db.SaveChangesAsync().ConfigureAwait(false);
        board.Notify();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Download job for record {DownloadId}: no such record")]
    private static partial void LogMissing(ILogger logger, int downloadId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Download {DownloadId} of {RepoId} is {State}; its job has nothing to do")]
    private static partial void LogNothingToDo(ILogger logger, int downloadId, string repoId, DownloadState state);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Download {DownloadId} of {RepoId}: a run for this model is already going in this process; this job run leaves it alone")]
    private static partial void LogAlreadyRunningHere(ILogger logger, int downloadId, string repoId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Download {DownloadId} of {RepoId}: another run holds its record; this job run leaves it alone")]
    private static partial void LogHeldElsewhere(ILogger logger, int downloadId, string repoId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Download {DownloadId} of {RepoId} running (run {Run})")]
    private static partial void LogStarted(ILogger logger, int downloadId, string repoId, int run);

    [LoggerMessage(Level = LogLevel.Information, Message = "Download {DownloadId} of {RepoId} completed")]
    private static partial void LogCompleted(ILogger logger, int downloadId, string repoId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Download {DownloadId} of {RepoId} stopped on request ({Reason})")]
    private static partial void LogStoppedOnRequest(ILogger logger, int downloadId, string repoId, DownloadStopReason reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Download {DownloadId} of {RepoId}: lost its lease to another run; stopping this one")]
    private static partial void LogLeaseLost(ILogger logger, int downloadId, string repoId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Download {DownloadId} of {RepoId} interrupted by shutdown at {Bytes} bytes; it continues after the next start")]
    private static partial void LogInterrupted(ILogger logger, int downloadId, string repoId, long bytes);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Download {DownloadId} of {RepoId} failed: {Reason}")]
    private static partial void LogFailed(ILogger logger, Exception exception, int downloadId, string repoId, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Download {DownloadId} of {RepoId} failed unexpectedly")]
    private static partial void LogCrashed(ILogger logger, Exception exception, int downloadId, string repoId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not write the progress of download {DownloadId}; trying again at the next tick")]
    private static partial void LogReportFailed(ILogger logger, Exception exception, int downloadId);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Progress reporting of download {DownloadId} stopped")]
    private static partial void LogReportingStopped(ILogger logger, int downloadId);
}
