using Hangfire;
using Hangfire.Common;
using Hangfire.States;
using Hangfire.Storage;
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
/// Where downloads are asked for and steered: start (or join), pause, resume, cancel, retry, dismiss. Each record has
/// one Hangfire job on the <see cref="DownloadJob.HangfireQueue"/> queue, enqueued when the download is asked for and
/// requeued (never duplicated) on resume and retry; the server of that queue has
/// <see cref="DownloadOptions.MaxConcurrent"/> workers, so Hangfire runs that many at once and the rest wait in the
/// order they were queued. <see cref="RecoverAsync"/> (the recurring <see cref="DownloadRecovery"/> job) makes sure
/// every open download has a live job. Register as a singleton.
/// </summary>
public sealed partial class DownloadQueue
{
    private readonly IServiceScopeFactory _scopes;
    private readonly IBackgroundJobClient _jobs;
    private readonly JobStorage _storage;
    private readonly DownloadRuns _runs;
    private readonly DownloadBoard _board;
    private readonly DownloadOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _gate = new(1, 1);

    public DownloadQueue(
        IServiceScopeFactory scopes,
        IBackgroundJobClient jobs,
        JobStorage storage,
        DownloadRuns runs,
        DownloadBoard board,
        IOptions<DownloadOptions> options,
        TimeProvider timeProvider,
        ILogger<DownloadQueue> logger)
    {
        _scopes = scopes;
        _jobs = jobs;
        _storage = storage;
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
                    await AssignJobAsync(db, open, cancellationToken).ConfigureAwait(false);
                    LogQueued(_logger, open.Id, repoId, requestedBy ?? "-", open.JobId!);
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
                await AssignJobAsync(db, open, cancellationToken).ConfigureAwait(false);
                LogRequeued(_logger, open.Id, repoId, again);
                result = new DownloadStartResult(DownloadView.From(open, null), false, $"The download of {repoId} is {again}.");
            }
        }
        finally
        {
            _gate.Release();
        }

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
    /// Every open download keeps exactly one live job: a record that should run (queued, downloading, verifying) whose
    /// lease is free and whose job ended, vanished, was never saved, or is "processing" on a server that is gone gets
    /// its job enqueued again. Jobs a stopped process left fetched are requeued at start-up by the job host; this
    /// covers what happens while the app runs.
    /// </summary>
    public async Task RecoverAsync(CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await using var scope = _scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
            var open = await db.Downloads
                .Where(d => (d.State == DownloadState.Queued || d.State == DownloadState.Downloading || d.State == DownloadState.Verifying) && !d.Dismissed)
                .ToListAsync(cancellationToken).ConfigureAwait(false);
            var now = Now;
            HashSet<string>? servers = null;
            using var connection = _storage.GetConnection();
            foreach (var record in open.Where(r => DownloadLease.IsFree(r.LeaseOwner, r.LeaseExpiresAtUtc, now)))
            {
                var job = record.JobId is null ? null : connection.GetStateData(record.JobId);
                if (job?.Name is { } state && (WaitingJobStates.Contains(state) || (state == ProcessingState.StateName && IsAlive(job))))
                {
                    continue;
                }

                record.JobId = EnsureJob(record.Id, record.JobId);
                LogRecovered(_logger, record.Id, record.RepoId, job?.Name ?? "missing", record.JobId);
            }

            await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);

            bool IsAlive(StateData processing)
            {
                servers ??= _storage.GetMonitoringApi().Servers().Select(s => s.Name).ToHashSet(StringComparer.Ordinal);
                return processing.Data.TryGetValue("ServerId", out var server) && servers.Contains(server);
            }
        }
        finally
        {
            _gate.Release();
            _board.Notify();
        }
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
                        WithdrawJob(record.JobId, verb);
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
            _board.Notify();
        }

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
            await AssignJobAsync(db, record, cancellationToken).ConfigureAwait(false);
            LogRequeued(_logger, record.Id, record.RepoId, done);
            result = new DownloadActionResult(true, $"The download of {record.RepoId} is {done}.", DownloadView.From(record, null));
        }
        finally
        {
            _gate.Release();
            _board.Notify();
        }

        return result;
    }

    private void Requeue(Download record, bool keepCommit)
    {
        var now = Now;
        record.State = DownloadState.Queued;
        record.StopRequest = DownloadStopRequest.None;
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

    /// <summary>Gives a record that was just (re)queued its job, enqueued, and saves the job's id on it.</summary>
    private async Task AssignJobAsync(AppDbContext db, Download record, CancellationToken cancellationToken)
    {
        // After the record's save: a worker that takes the job at once must find the record queued.
        record.JobId = EnsureJob(record.Id, record.JobId);
        await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
    }

    private string EnsureJob(int downloadId, string? jobId)
    {
        // The record's own job, enqueued again (at the end of the queue): one job per download, whatever happens to it.
        if (jobId is not null)
        {
            using var connection = _storage.GetConnection();
            var state = connection.GetJobData(jobId)?.State;
            if (state == EnqueuedState.StateName
                || (state is not null && _jobs.ChangeState(jobId, new EnqueuedState { Reason = "Download queued again" }, null)))
            {
                return jobId;
            }
        }

        return _jobs.Create(Job.FromExpression<DownloadJob>(job => job.RunAsync(downloadId, CancellationToken.None)), new EnqueuedState());
    }

    /// <summary>A download that stopped while its job still waited: the job leaves the queue rather than taking a worker for nothing.</summary>
    private void WithdrawJob(string? jobId, string verb)
    {
        if (jobId is not null)
        {
            _jobs.ChangeState(jobId, new DeletedState { Reason = $"Download {verb}d while queued" }, EnqueuedState.StateName);
        }
    }

    /// <summary>Job states in which the job will still run by itself.</summary>
    private static readonly HashSet<string> WaitingJobStates = new(StringComparer.OrdinalIgnoreCase)
    {
        EnqueuedState.StateName, ScheduledState.StateName, AwaitingState.StateName,
    };

    private static Task<Download?> FindOpenAsync(AppDbContext db, string repoId, CancellationToken cancellationToken) =>
        db.Downloads.FirstOrDefaultAsync(d => d.RepoId == repoId && d.State != DownloadState.Completed && !d.Dismissed, cancellationToken);

    private static bool IsRepoId(string repoId) => HfCacheNames.IsPlausibleRepoId(repoId) && repoId.Contains('/', StringComparison.Ordinal);

    [LoggerMessage(Level = LogLevel.Information, Message = "Download {DownloadId} of {RepoId} queued as job {JobId} (asked by {RequestedBy})")]
    private static partial void LogQueued(ILogger logger, int downloadId, string repoId, string requestedBy, string jobId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Two requests to download {RepoId} raced; joined download {DownloadId}")]
    private static partial void LogJoinedRace(ILogger logger, Exception exception, string repoId, int downloadId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Download {DownloadId} of {RepoId} {What}")]
    private static partial void LogRequeued(ILogger logger, int downloadId, string repoId, string what);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Download {DownloadId} of {RepoId} is open but its job is {JobState}; it is queued again as job {JobId}")]
    private static partial void LogRecovered(ILogger logger, int downloadId, string repoId, string jobState, string jobId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Download {DownloadId} of {RepoId} is now {State}")]
    private static partial void LogStopped(ILogger logger, int downloadId, string repoId, DownloadState state);
}
