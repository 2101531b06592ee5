using System.Collections.Concurrent;
using System.Text.Json;
using Hangfire;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using MlxManager.Core.Data;

namespace MlxManager.Core.Discovery.Jobs;

/// <summary>A model the page wants characteristics for.</summary>
/// <param name="Commit">The commit (Hub <c>sha</c> or the local snapshot's revision).</param>
public sealed record DetectionRequest(string RepoId, string Commit, DetectionSourceKind Source, string? LocalPath = null, DetectionHints? Hints = null);

/// <summary>What is known about one repo@commit right now.</summary>
public sealed record DetectionStatus(string RepoId, string Commit, DetectionState State, ModelCharacteristics? Characteristics, string? Failure)
{
    public bool IsPending => State is DetectionState.Queued or DetectionState.Running;
}

/// <summary>
/// The detection cache: results per repo@commit in SQLite, reused across searches and restarts. <see cref="EnsureAsync"/>
/// answers for a whole list in one query and enqueues one Hangfire <see cref="ModelDetectionJob"/> per repo@commit
/// not yet detected (never twice: a row is the claim, unique on repo + commit), or detected by an older
/// <see cref="ModelCharacteristicsDetector.Version"/>. Register as a singleton.
/// </summary>
public sealed partial class ModelDetections
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.General);

    private readonly IServiceScopeFactory _scopes;
    private readonly IBackgroundJobClient _jobs;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _claim = new(1, 1);
    private readonly ConcurrentDictionary<int, (DateTime? Finished, ModelCharacteristics Value)> _parsed = new();

    // Finished results of the current detector version never change (a new commit is a new key), so once seen they are
    // answered from memory: a warm page of 500 local models asks the database nothing about them.
    private readonly ConcurrentDictionary<string, DetectionStatus> _done = new(StringComparer.Ordinal);

    public ModelDetections(IServiceScopeFactory scopes, IBackgroundJobClient jobs, TimeProvider timeProvider, ILogger<ModelDetections>? logger = null)
    {
        _scopes = scopes;
        _jobs = jobs;
        _time = timeProvider;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    /// <summary>A failed detection is tried again after this long (the Hub may be back, a token may be set).</summary>
    public TimeSpan RetryFailedAfter { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>A detection queued this long ago without finishing is queued again (its job was lost).</summary>
    public TimeSpan RequeueStaleAfter { get; init; } = TimeSpan.FromMinutes(15);

    public static string Key(string repoId, string commit) => repoId + "@" + commit;

    /// <summary>
    /// The status of every requested repo@commit (keyed by <see cref="Key"/>), queuing detections that are missing,
    /// outdated or failed long enough ago. One query to read, one transaction to claim.
    /// </summary>
    public async Task<IReadOnlyDictionary<string, DetectionStatus>> EnsureAsync(IReadOnlyCollection<DetectionRequest> requests, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(requests);
        var result = new Dictionary<string, DetectionStatus>(StringComparer.Ordinal);
        if (requests.Count == 0)
        {
            return result;
        }

        var wanted = new Dictionary<string, DetectionRequest>(StringComparer.Ordinal);
        foreach (var request in requests)
        {
            var key = Key(request.RepoId, request.Commit);
            if (_done.TryGetValue(key, out var known))
            {
                result[key] = known;
            }
            else
            {
                wanted.TryAdd(key, request);
            }
        }

        if (wanted.Count == 0)
        {
            return result;
        }

        await using var scope = _scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var rows = await LoadAsync(db, wanted.Values, cancellationToken).ConfigureAwait(false);

        var now = _time.GetUtcNow().UtcDateTime;
        var toClaim = wanted.Values.Where(r => !rows.TryGetValue(Key(r.RepoId, r.Commit), out var row) || NeedsRun(row, now)).ToList();
        if (toClaim.Count > 0)
        {
            foreach (var row in await ClaimAsync(db, toClaim, cancellationToken).ConfigureAwait(false))
            {
                rows[Key(row.RepoId, row.Commit)] = row;
            }
        }

        foreach (var (key, request) in wanted)
        {
            var status = rows.TryGetValue(key, out var row)
                ? ToStatus(row)
                : new DetectionStatus(request.RepoId, request.Commit, DetectionState.Queued, null, null);
            if (status.State == DetectionState.Done && status.Characteristics is not null && row!.DetectorVersion >= ModelCharacteristicsDetector.Version)
            {
                _done[key] = status;
            }

            result[key] = status;
        }

        return result;
    }

    /// <summary>Reads the cache without queuing anything.</summary>
    public async Task<DetectionStatus?> FindAsync(string repoId, string commit, CancellationToken cancellationToken = default)
    {
        await using var scope = _scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var row = await db.ModelDetections.AsNoTracking().FirstOrDefaultAsync(d => d.RepoId == repoId && d.Commit == commit, cancellationToken).ConfigureAwait(false);
        return row is null ? null : ToStatus(row);
    }

    public static string Serialize(ModelCharacteristics characteristics) => JsonSerializer.Serialize(characteristics, Json);

    public static ModelCharacteristics? Deserialize(string json) => JsonSerializer.Deserialize<ModelCharacteristics>(json, Json);

    public static string SerializeHints(DetectionHints hints) => JsonSerializer.Serialize(hints, Json);

    public static DetectionHints? DeserializeHints(string? json) => string.IsNullOrEmpty(json) ? null : JsonSerializer.Deserialize<DetectionHints>(json, Json);

    private bool NeedsRun(ModelDetection row, DateTime now) => row.State switch
    {
        DetectionState.Done => row.DetectorVersion < ModelCharacteristicsDetector.Version,
        DetectionState.Failed => row.DetectorVersion < ModelCharacteristicsDetector.Version || (row.FinishedAtUtc is { } failed && now - failed >= RetryFailedAfter),
        _ => now - row.QueuedAtUtc >= RequeueStaleAfter,
    };

    // Reads the rows without their JSON, then the JSON only of finished rows not parsed before: with a warm cache a
    // page of 500 models reads a few hundred short rows, not megabytes of characteristics.
    private async Task<Dictionary<string, ModelDetection>> LoadAsync(AppDbContext db, IEnumerable<DetectionRequest> requests, CancellationToken cancellationToken)
    {
        var repoIds = requests.Select(r => r.RepoId).Distinct(StringComparer.Ordinal).ToList();
        var rows = await db.ModelDetections.AsNoTracking().Where(d => repoIds.Contains(d.RepoId))
            .Select(d => new ModelDetection
            {
                Id = d.Id,
                RepoId = d.RepoId,
                Commit = d.Commit,
                Source = d.Source,
                State = d.State,
                DetectorVersion = d.DetectorVersion,
                Failure = d.Failure,
                Attempts = d.Attempts,
                QueuedAtUtc = d.QueuedAtUtc,
                StartedAtUtc = d.StartedAtUtc,
                FinishedAtUtc = d.FinishedAtUtc,
            })
            .ToListAsync(cancellationToken).ConfigureAwait(false);
        var missing = rows.Where(r => r.State == DetectionState.Done && !(_parsed.TryGetValue(r.Id, out var cached) && cached.Finished == r.FinishedAtUtc))
            .Select(r => r.Id).ToList();
        if (missing.Count > 0)
        {
            var texts = await db.ModelDetections.AsNoTracking().Where(d => missing.Contains(d.Id))
                .Select(d => new { d.Id, d.CharacteristicsJson })
                .ToDictionaryAsync(d => d.Id, d => d.CharacteristicsJson, cancellationToken).ConfigureAwait(false);
            foreach (var row in rows)
            {
                row.CharacteristicsJson = texts.GetValueOrDefault(row.Id);
            }
        }

        return rows.ToDictionary(r => Key(r.RepoId, r.Commit), StringComparer.Ordinal);
    }

    // Claims rows (insert, or reset an outdated one) inside one transaction, then enqueues a job per claimed row.
    // The semaphore keeps two requests of this process from claiming the same rows; the unique index keeps other
    // processes out.
    private async Task<List<ModelDetection>> ClaimAsync(AppDbContext db, List<DetectionRequest> requests, CancellationToken cancellationToken)
    {
        var claimed = new List<ModelDetection>();
        await _claim.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var current = await LoadTrackedAsync(db, requests, cancellationToken).ConfigureAwait(false);
            var now = _time.GetUtcNow().UtcDateTime;
            foreach (var request in requests)
            {
                var key = Key(request.RepoId, request.Commit);
                if (current.TryGetValue(key, out var row))
                {
                    if (!NeedsRun(row, now))
                    {
                        claimed.Add(row);
                        continue;
                    }
                }
                else
                {
                    row = new ModelDetection { RepoId = request.RepoId, Commit = request.Commit };
                    db.ModelDetections.Add(row);
                }

                row.Source = request.Source;
                row.LocalPath = request.LocalPath;
                row.HintsJson = request.Hints is null ? null : SerializeHints(request.Hints);
                row.State = DetectionState.Queued;
                row.DetectorVersion = ModelCharacteristicsDetector.Version;
                row.Failure = null;
                row.QueuedAtUtc = now;
                row.StartedAtUtc = null;
                row.FinishedAtUtc = null;
                claimed.Add(row);
            }

            try
            {
                await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (DbUpdateException exception) when (exception.InnerException is SqliteException { SqliteErrorCode: 19 })
            {
                // Another process claimed some of them first: take the rows as they are now, queue nothing.
                LogClaimRace(_logger, exception);
                db.ChangeTracker.Clear();
                return (await LoadTrackedAsync(db, requests, cancellationToken).ConfigureAwait(false)).Values.ToList();
            }

            foreach (var row in claimed.Where(r => r.State == DetectionState.Queued && r.QueuedAtUtc == now))
            {
                _jobs.Enqueue<ModelDetectionJob>(job => job.RunAsync(row.Id, CancellationToken.None));
                LogQueued(_logger, row.RepoId, row.Commit, row.Source.ToString());
            }
        }
        finally
        {
            _claim.Release();
        }

        return claimed;
    }

    private static async Task<Dictionary<string, ModelDetection>> LoadTrackedAsync(AppDbContext db, IEnumerable<DetectionRequest> requests, CancellationToken cancellationToken)
    {
        var repoIds = requests.Select(r => r.RepoId).Distinct(StringComparer.Ordinal).ToList();
        var rows = await db.ModelDetections.Where(d => repoIds.Contains(d.RepoId)).ToListAsync(cancellationToken).ConfigureAwait(false);
        return rows.ToDictionary(r => Key(r.RepoId, r.Commit), StringComparer.Ordinal);
    }

    private DetectionStatus ToStatus(ModelDetection row)
    {
        ModelCharacteristics? characteristics = null;
        if (row.State == DetectionState.Done)
        {
            // Parsed once per finished row: a page of 500 models must not deserialize 500 documents per render.
            if (_parsed.TryGetValue(row.Id, out var cached) && cached.Finished == row.FinishedAtUtc)
            {
                characteristics = cached.Value;
            }
            else if (row.CharacteristicsJson is { } json)
            {
                try
                {
                    characteristics = Deserialize(json);
                    if (characteristics is not null)
                    {
                        _parsed[row.Id] = (row.FinishedAtUtc, characteristics);
                    }
                }
                catch (JsonException exception)
                {
                    LogUnreadableResult(_logger, exception, row.RepoId, row.Commit);
                    return new DetectionStatus(row.RepoId, row.Commit, DetectionState.Failed, null, "the stored result could not be read; it will be detected again");
                }
            }
        }

        return new DetectionStatus(row.RepoId, row.Commit, row.State, characteristics, row.Failure);
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Detection of {RepoId}@{Commit} queued ({Source})")]
    private static partial void LogQueued(ILogger logger, string repoId, string commit, string source);

    [LoggerMessage(Level = LogLevel.Information, Message = "Another process claimed some detections first")]
    private static partial void LogClaimRace(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Stored detection of {RepoId}@{Commit} could not be read")]
    private static partial void LogUnreadableResult(ILogger logger, Exception exception, string repoId, string commit);
}
