using Hangfire;
using Hangfire.Common;
using Hangfire.States;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MlxManager.Core.Data;
using MlxManager.Core.Library;

namespace MlxManager.Core.Downloads;

/// <summary>The answer to an action on a download: whether it happened, a sentence for the user, and the download now.</summary>
public sealed record DownloadActionResult(bool Done, string Message, DownloadView? Download)
{
    public static DownloadActionResult NotFound(int id) => new(false, $"There is no download {id}.", null);
}

/// <summary>The answer to "download this model".</summary>
/// <param name="Joined">The model was already downloading (or queued): this request joined that download.</param>
public sealed record DownloadStartResult(DownloadView Download, bool Joined, string Message);

/// <summary>
/// Where downloads are asked for and steered: start (or join), pause, resume, cancel, retry, dismiss. It keeps at most
/// <see cref="DownloadOptions.MaxConcurrent"/> downloads running and the rest queued in the order asked
/// (<see cref="PumpAsync"/> hands the next one a job), and each record keeps its one Hangfire job, requeued rather
/// than duplicated. After a restart, <see cref="RecoverAsync"/> makes sure every download that was running has its
/// job again. Register as a singleton.
/// </summary>
public sealed partial class DownloadQueue
{
    private readonly IServiceScopeFactory _scopes;
    private readonly IBackgroundJobClient _jobs;
    private readonly DownloadRuns _runs;
    private readonly DownloadBoard _board;
    private readonly DownloadOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _gate = new(1, 1);

    public DownloadQueue(
        IServiceScopeFactory scopes,
        IBackgroundJobClient jobs,
        DownloadRuns runs,
        DownloadBoard board,
        IOptions<DownloadOptions> options,
        TimeProvider timeProvider,
        ILogger<DownloadQueue> logger)
    {
        _scopes = scopes;
        _jobs = jobs;
        _runs = runs;
        _board = board;
        _options = options.Value;
        _time = timeProvider;
        _logger = logger;
    }

    private DateTime Now => _time.GetUtcNow().UtcDateTime;

    /// <summary>
    /// Downloads <paramref name="repoId"/>: joins the open download of that model when there is one (resuming it when
    /// paused, retrying it when it failed or was cancelled), otherwise creates a record and queues it.
    /// </summary>
    public async Task<DownloadStartResult> StartAsync(string repoId, string? requestedBy, CancellationToken cancellationToken = default)
    {
        repoId = repoId?.Trim() ?? string.Empty;
        if (!IsRepoId(repoId))
        {
            throw new ArgumentException($"\"{repoId}\" is not a model id of the form org/name.", nameof(repoId));
        }

        DownloadStartResult result;
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await using var scope = _scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
            var open = await FindOpenAsync(db, repoId, cancellationToken).ConfigureAwait(false);
            if (open is null)
            {
                var now = Now;
                open = new Download
                {
                    RepoId = repoId,
                    State = DownloadState.Queued,
                    RequestedBy = requestedBy,
                    CreatedAtUtc = now,
                    QueuedAtUtc = now,
                    UpdatedAtUtc = now,
                };
                db.Downloads.Add(open);
                try
                {
                    await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
                    LogQueued(_logger, open.Id, repoId, requestedBy ?? "-");
                    result = new DownloadStartResult(DownloadView.From(open, null), false, $"{repoId} is queued for download.");
                }
                catch (DbUpdateException exception)
                {
                    // Another process created it between our look and our insert (the unique index refused ours).
                    db.Entry(open).State = EntityState.Detached;
                    var winner = await FindOpenAsync(db, repoId, cancellationToken).ConfigureAwait(false);
                    if (winner is null)
                    {
                        throw;
                    }

                    LogJoinedRace(_logger, exception, repoId, winner.Id);
                    result = new DownloadStartResult(DownloadView.From(winner, null), true, $"{repoId} is already downloading; you joined that download.");
                }
            }
            else if (open.IsActive)
            {
                result = new DownloadStartResult(DownloadView.From(open, null), true, $"{repoId} is already downloading; you joined that download.");
            }
            else
            {
                var again = open.State == DownloadState.Paused ? "resumed" : "queued again";
                Requeue(open, keepCommit: open.State == DownloadState.Paused);
                await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
                LogRequeued(_logger, open.Id, repoId, again);
                result = new DownloadStartResult(DownloadView.From(open, null), false, $"The download of {repoId} is {again}.");
            }
        }
        finally
        {
            _gate.Release();
        }

        await PumpAsync(cancellationToken).ConfigureAwait(false);

        // Read now rather than soon: the page that asked renders its lists from the board next.
        await _board.RefreshAsync(cancellationToken).ConfigureAwait(false);
        return result;
    }

    /// <summary>Pauses a download: it stops within a moment and keeps its partial files for <see cref="ResumeAsync"/>.</summary>
    public Task<DownloadActionResult> PauseAsync(int downloadId, CancellationToken cancellationToken = default) =>
        StopAsync(downloadId, DownloadStopRequest.Pause, cancellationToken);

    /// <summary>Cancels a download: it stops within a moment and its partial files are removed.</summary>
    public Task<DownloadActionResult> CancelAsync(int downloadId, CancellationToken cancellationToken = default) =>
        StopAsync(downloadId, DownloadStopRequest.Cancel, cancellationToken);

    /// <summary>Queues a paused download again; it continues from its partial files.</summary>
    public Task<DownloadActionResult> ResumeAsync(int downloadId, CancellationToken cancellationToken = default) =>
        RequeueAsync(downloadId, DownloadState.Paused, "resumed", cancellationToken);

    /// <summary>Queues a failed or cancelled download again (re-reading which commit <c>main</c> is; finished files are kept).</summary>
    public Task<DownloadActionResult> RetryAsync(int downloadId, CancellationToken cancellationToken = default) =>
        RequeueAsync(downloadId, null, "queued again", cancellationToken);

    /// <summary>Puts away a failed or cancelled download's tile; a failed one's partial files are removed with it.</summary>
    public async Task<DownloadActionResult> DismissAsync(int downloadId, CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await using var scope = _scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
            var record = await db.Downloads.FirstOrDefaultAsync(d => d.Id == downloadId, cancellationToken).ConfigureAwait(false);
            if (record is null)
            {
                return DownloadActionResult.NotFound(downloadId);
            }

            if (record.State is not (DownloadState.Failed or DownloadState.Cancelled))
            {
                return new DownloadActionResult(false, $"Only failed or cancelled downloads can be dismissed; {record.RepoId} is {record.State.ToString().ToLowerInvariant()}.", DownloadView.From(record, null));
            }

            if (record.State == DownloadState.Failed)
            {
                // Nobody runs a failed download; the locks make sure of it before its partial files go.
                using var run = _runs.TryBegin(record.Id, record.RepoId);
                var lease = DownloadLease.ForThisProcess($"dismiss-{Guid.NewGuid():N}");
                if (run is null || !await DownloadLeases.TryClaimAsync(db, record.Id, lease, _options.LeaseDuration, Now, cancellationToken).ConfigureAwait(false))
                {
                    return new DownloadActionResult(false, $"The download of {record.RepoId} is busy; try again in a moment.", DownloadView.From(record, null));
                }

                try
                {
                    scope.ServiceProvider.GetRequiredService<ModelDownloader>().RemovePartials(record.RepoId, DownloadPlan.FromJson(record.PlanJson));
                }
                finally
                {
                    await DownloadLeases.ReleaseAsync(db, record.Id, lease, CancellationToken.None).ConfigureAwait(false);
                }

                await db.Entry(record).ReloadAsync(cancellationToken).ConfigureAwait(false);
            }

            record.Dismissed = true;
            record.UpdatedAtUtc = Now;
            await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
            return new DownloadActionResult(true, $"Dismissed the download of {record.RepoId}.", DownloadView.From(record, null));
        }
        finally
        {
            _gate.Release();
            _board.Notify();
        }
    }

    /// <summary>One download as the API shows it; null when there is no such record.</summary>
    public async Task<DownloadView?> FindAsync(int downloadId, CancellationToken cancellationToken = default)
    {
        await using var scope = _scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var record = await db.Downloads.AsNoTracking().FirstOrDefaultAsync(d => d.Id == downloadId, cancellationToken).ConfigureAwait(false);
        if (record is null)
        {
            return null;
        }

        var board = await _board.GetAsync(cancellationToken).ConfigureAwait(false);
        return board.Downloads.FirstOrDefault(d => d.Id == downloadId) is { } live && live.UpdatedAtUtc >= DateTime.SpecifyKind(record.UpdatedAtUtc, DateTimeKind.Utc)
            ? live
            : DownloadView.From(record, null);
    }

    /// <summary>The most recent downloads, open ones first (for the API).</summary>
    public async Task<IReadOnlyList<DownloadView>> ListAsync(int limit = 100, CancellationToken cancellationToken = default)
    {
        var board = await _board.RefreshAsync(cancellationToken).ConfigureAwait(false);
        await using var scope = _scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var openIds = board.Downloads.Select(d => d.Id).ToHashSet();
        var closed = await db.Downloads.AsNoTracking()
            .Where(d => d.State == DownloadState.Completed || d.Dismissed)
            .OrderByDescending(d => d.Id)
            .Take(Math.Clamp(limit, 1, 1000))
            .ToListAsync(cancellationToken).ConfigureAwait(false);
        return [.. board.Downloads, .. closed.Where(d => !openIds.Contains(d.Id)).Select(d => DownloadView.From(d, null))];
    }

    /// <summary>
    /// Hands queued downloads a job while fewer than <see cref="DownloadOptions.MaxConcurrent"/> run. Called after
    /// every change; safe to call any time.
    /// </summary>
    public async Task PumpAsync(CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await using var scope = _scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
            var running = await db.Downloads.CountAsync(
                d => (d.State == DownloadState.Queued && d.Dispatched) || d.State == DownloadState.Downloading || d.State == DownloadState.Verifying,
                cancellationToken).ConfigureAwait(false);
            var free = Math.Max(1, _options.MaxConcurrent) - running;
            if (free <= 0)
            {
                return;
            }

            var next = await db.Downloads.AsNoTracking()
                .Where(d => d.State == DownloadState.Queued && !d.Dispatched && !d.Dismissed)
                .OrderBy(d => d.QueuedAtUtc).ThenBy(d => d.Id)
                .Take(free)
                .ToListAsync(cancellationToken).ConfigureAwait(false);
            foreach (var record in next)
            {
                var now = Now;
                var claimed = await db.Downloads
                    .Where(d => d.Id == record.Id && d.State == DownloadState.Queued && !d.Dispatched)
                    .ExecuteUpdateAsync(s => s.SetProperty(d => d.Dispatched, true).SetProperty(d => d.UpdatedAtUtc, now), cancellationToken)
                    .ConfigureAwait(false);
                if (claimed == 0)
                {
                    continue;
                }

                var jobId = EnsureJob(record.Id, record.JobId);
                if (jobId != record.JobId)
                {
                    await db.Downloads.Where(d => d.Id == record.Id)
                        .ExecuteUpdateAsync(s => s.SetProperty(d => d.JobId, jobId), cancellationToken)
                        .ConfigureAwait(false);
                }

                LogDispatched(_logger, record.Id, record.RepoId, jobId);
            }
        }
        finally
        {
            _gate.Release();
            _board.Notify();
        }
    }

    /// <summary>
    /// After a start: every download that was running or handed a job keeps exactly one live job. Jobs a crashed
    /// process left are released by the job storage and run again by themselves; this covers a job that ended or
    /// vanished while its record still says it runs, and a record whose job id was never saved.
    /// </summary>
    public async Task RecoverAsync(JobStorage storage, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(storage);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await using var scope = _scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
            var running = await db.Downloads
                .Where(d => (d.State == DownloadState.Queued && d.Dispatched) || d.State == DownloadState.Downloading || d.State == DownloadState.Verifying)
                .ToListAsync(cancellationToken).ConfigureAwait(false);
            if (running.Count == 0)
            {
                return;
            }

            using var connection = storage.GetConnection();
            var now = Now;
            foreach (var record in running)
            {
                if (!DownloadLease.IsFree(record.LeaseOwner, record.LeaseExpiresAtUtc, now))
                {
                    // A live run holds it.
                    continue;
                }

                record.JobId ??= FindJobOf(storage, record.Id);
                var state = record.JobId is null ? null : connection.GetJobData(record.JobId)?.State;
                if (state is not null && LiveJobStates.Contains(state))
                {
                    record.Dispatched = true;
                    continue;
                }

                record.JobId = EnsureJob(record.Id, record.JobId);
                record.Dispatched = true;
                LogRecovered(_logger, record.Id, record.RepoId, state ?? "missing", record.JobId);
            }

            await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }

        await PumpAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task<DownloadActionResult> StopAsync(int downloadId, DownloadStopRequest request, CancellationToken cancellationToken)
    {
        var verb = request == DownloadStopRequest.Cancel ? "cancel" : "pause";
        DownloadActionResult result;
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await using var scope = _scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
            var record = await db.Downloads.FirstOrDefaultAsync(d => d.Id == downloadId, cancellationToken).ConfigureAwait(false);
            if (record is null)
            {
                return DownloadActionResult.NotFound(downloadId);
            }

            var stoppable = record.IsActive || (request == DownloadStopRequest.Cancel && record.State == DownloadState.Paused);
            if (!stoppable)
            {
                return new DownloadActionResult(false, $"The download of {record.RepoId} is {record.State.ToString().ToLowerInvariant()}; there is nothing to {verb}.", DownloadView.From(record, null));
            }

            // Nobody runs it (queued, paused, failed, or a job not started yet): act here, holding both locks.
            using (var run = _runs.TryBegin(record.Id, record.RepoId))
            {
                var lease = DownloadLease.ForThisProcess($"{verb}-{Guid.NewGuid():N}");
                if (run is not null && await DownloadLeases.TryClaimAsync(db, record.Id, lease, _options.LeaseDuration, Now, cancellationToken).ConfigureAwait(false))
                {
                    try
                    {
                        await db.Entry(record).ReloadAsync(cancellationToken).ConfigureAwait(false);
                        if (request == DownloadStopRequest.Cancel)
                        {
                            scope.ServiceProvider.GetRequiredService<ModelDownloader>().RemovePartials(record.RepoId, DownloadPlan.FromJson(record.PlanJson));
                        }

                        Finish(record, request == DownloadStopRequest.Cancel ? DownloadState.Cancelled : DownloadState.Paused, null, Now);
                        await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
                    }
                    finally
                    {
                        await DownloadLeases.ReleaseAsync(db, record.Id, lease, CancellationToken.None).ConfigureAwait(false);
                    }

                    LogStopped(_logger, record.Id, record.RepoId, record.State);
                    result = new DownloadActionResult(true, request == DownloadStopRequest.Cancel ? $"Cancelled the download of {record.RepoId}." : $"Paused the download of {record.RepoId}.", DownloadView.From(record, null));
                }
                else
                {
                    // A run holds it (here or in another process): ask it to stop; it checks at every progress write.
                    var now = Now;
                    await db.Downloads.Where(d => d.Id == record.Id)
                        .ExecuteUpdateAsync(s => s.SetProperty(d => d.StopRequest, request).SetProperty(d => d.UpdatedAtUtc, now), cancellationToken)
                        .ConfigureAwait(false);
                    record.StopRequest = request;
                    result = new DownloadActionResult(true, request == DownloadStopRequest.Cancel ? $"Cancelling the download of {record.RepoId}…" : $"Pausing the download of {record.RepoId}…", DownloadView.From(record, null));
                }
            }

            _runs.Stop(record.Id, request == DownloadStopRequest.Cancel ? DownloadStopReason.Cancel : DownloadStopReason.Pause);
        }
        finally
        {
            _gate.Release();
        }

        await PumpAsync(cancellationToken).ConfigureAwait(false);
        return result;
    }

    private async Task<DownloadActionResult> RequeueAsync(int downloadId, DownloadState? from, string done, CancellationToken cancellationToken)
    {
        DownloadActionResult result;
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await using var scope = _scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
            var record = await db.Downloads.FirstOrDefaultAsync(d => d.Id == downloadId, cancellationToken).ConfigureAwait(false);
            if (record is null)
            {
                return DownloadActionResult.NotFound(downloadId);
            }

            var allowed = from is { } state ? record.State == state : record.State is DownloadState.Failed or DownloadState.Cancelled;
            if (!allowed || record.Dismissed)
            {
                return new DownloadActionResult(false, $"The download of {record.RepoId} is {record.State.ToString().ToLowerInvariant()}; it cannot be {done}.", DownloadView.From(record, null));
            }

            if (await FindOpenAsync(db, record.RepoId, cancellationToken).ConfigureAwait(false) is { } other && other.Id != record.Id)
            {
                return new DownloadActionResult(false, $"{record.RepoId} has another download open.", DownloadView.From(record, null));
            }

            Requeue(record, keepCommit: record.State == DownloadState.Paused);
            await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
            LogRequeued(_logger, record.Id, record.RepoId, done);
            result = new DownloadActionResult(true, $"The download of {record.RepoId} is {done}.", DownloadView.From(record, null));
        }
        finally
        {
            _gate.Release();
        }

        await PumpAsync(cancellationToken).ConfigureAwait(false);
        return result;
    }

    private void Requeue(Download record, bool keepCommit)
    {
        var now = Now;
        record.State = DownloadState.Queued;
        record.StopRequest = DownloadStopRequest.None;
        record.Dispatched = false;
        record.Error = null;
        record.QueuedAtUtc = now;
        record.UpdatedAtUtc = now;
        record.FinishedAtUtc = null;
        record.BytesPerSecond = 0;
        record.EtaSeconds = null;
        record.CurrentFiles = null;
        if (!keepCommit)
        {
            // A retry asks the Hub again which commit main is; finished blobs are found again by their ETag.
            record.Commit = null;
            record.PlanJson = null;
        }
    }

    /// <summary>Writes a final (or paused) state on a record that no run holds any more.</summary>
    internal static void Finish(Download record, DownloadState state, string? error, DateTime nowUtc)
    {
        record.State = state;
        record.Error = error is { Length: > 4000 } ? error[..4000] : error;
        record.StopRequest = DownloadStopRequest.None;
        record.Dispatched = false;
        record.BytesPerSecond = 0;
        record.EtaSeconds = null;
        record.CurrentFiles = null;
        record.UpdatedAtUtc = nowUtc;
        record.FinishedAtUtc = state is DownloadState.Paused ? null : nowUtc;
        if (state == DownloadState.Cancelled)
        {
            record.CompletedBytes = 0;
            record.FilesDone = 0;
        }
    }

    private string EnsureJob(int downloadId, string? jobId)
    {
        // The record's own job, enqueued again: one job per download, whatever happens to it.
        if (jobId is not null && _jobs.ChangeState(jobId, new EnqueuedState { Reason = "Download queued again" }, null))
        {
            return jobId;
        }

        return _jobs.Create(Job.FromExpression<DownloadJob>(job => job.RunAsync(downloadId, CancellationToken.None)), new EnqueuedState());
    }

    private static string? FindJobOf(JobStorage storage, int downloadId)
    {
        var monitoring = storage.GetMonitoringApi();
        bool Mine(Job? job) => job?.Type == typeof(DownloadJob) && job.Args.Count > 0 && job.Args[0] is int id && id == downloadId;
        foreach (var queue in monitoring.Queues())
        {
            var found = monitoring.EnqueuedJobs(queue.Name, 0, 1000).FirstOrDefault(j => Mine(j.Value?.Job));
            if (found.Key is not null)
            {
                return found.Key;
            }
        }

        var processing = monitoring.ProcessingJobs(0, 1000).FirstOrDefault(j => Mine(j.Value?.Job));
        return processing.Key;
    }

    private static readonly HashSet<string> LiveJobStates = new(StringComparer.OrdinalIgnoreCase)
    {
        EnqueuedState.StateName, ProcessingState.StateName, ScheduledState.StateName, AwaitingState.StateName,
    };

    private static Task<Download?> FindOpenAsync(AppDbContext db, string repoId, CancellationToken cancellationToken) =>
        db.Downloads.FirstOrDefaultAsync(d => d.RepoId == repoId && d.State != DownloadState.Completed && !d.Dismissed, cancellationToken);

    private static bool IsRepoId(string repoId) => HfCacheNames.IsPlausibleRepoId(repoId) && repoId.Contains('/', StringComparison.Ordinal);

    [LoggerMessage(Level = LogLevel.Information, Message = "Download {DownloadId} of {RepoId} queued (asked by {RequestedBy})")]
    private static partial void LogQueued(ILogger logger, int downloadId, string repoId, string requestedBy);

    [LoggerMessage(Level = LogLevel.Information, Message = "Two requests to download {RepoId} raced; joined download {DownloadId}")]
    private static partial void LogJoinedRace(ILogger logger, Exception exception, string repoId, int downloadId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Download {DownloadId} of {RepoId} {What}")]
    private static partial void LogRequeued(ILogger logger, int downloadId, string repoId, string what);

    [LoggerMessage(Level = LogLevel.Information, Message = "Download {DownloadId} of {RepoId} runs as job {JobId}")]
    private static partial void LogDispatched(ILogger logger, int downloadId, string repoId, string jobId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Download {DownloadId} of {RepoId} was running but its job is {JobState}; it runs again as job {JobId}")]
    private static partial void LogRecovered(ILogger logger, int downloadId, string repoId, string jobState, string jobId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Download {DownloadId} of {RepoId} is now {State}")]
    private static partial void LogStopped(ILogger logger, int downloadId, string repoId, DownloadState state);
}
