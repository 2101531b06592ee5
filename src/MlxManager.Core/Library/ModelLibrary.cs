using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace MlxManager.Core.Library;

/// <summary>
/// The models on this machine: the HF cache plus configured read-only folders. Scans are cached: within
/// <see cref="LibraryOptions.ChangeCheckInterval"/> the last result is returned as is; after it, each model's
/// folder fingerprint (a few directory timestamps) is compared and only changed models are read again.
/// <see cref="Invalidate"/> forces a full re-read (call it after a download or a delete). Register as a singleton.
/// </summary>
public sealed partial class ModelLibrary
{
    private readonly HfEnvironment _environment;
    private readonly LibraryOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly IRepoManifestStore _manifests;
    private readonly IReadOnlyList<IModelDeletionGuard> _guards;
    private readonly Lock _gate = new();
    private Dictionary<string, (string Stamp, LocalModel Model)> _entries = new(StringComparer.Ordinal);
    private LibrarySnapshot? _snapshot;
    private DateTimeOffset _checkedAt;
    private IReadOnlyList<string> _additionalFolders = [];

    public ModelLibrary(
        HfEnvironment environment,
        LibraryOptions options,
        TimeProvider timeProvider,
        ILogger<ModelLibrary>? logger = null,
        IRepoManifestStore? manifests = null,
        IEnumerable<IModelDeletionGuard>? guards = null)
    {
        _environment = environment ?? throw new ArgumentNullException(nameof(environment));
        _options = options ?? throw new ArgumentNullException(nameof(options));
        _time = timeProvider ?? throw new ArgumentNullException(nameof(timeProvider));
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _manifests = manifests ?? NoRepoManifests.Instance;
        _guards = guards?.ToList() ?? [];
    }

    public HfEnvironment Environment => _environment;

    /// <summary>The models, from the cache when nothing changed.</summary>
    public LibrarySnapshot GetModels()
    {
        lock (_gate)
        {
            var now = _time.GetUtcNow();
            if (_snapshot is not null && now - _checkedAt < _options.ChangeCheckInterval)
            {
                return _snapshot with { Statistics = _snapshot.Statistics with { FromCache = true, ModelsExamined = 0, ModelsReused = _snapshot.Models.Count, Duration = TimeSpan.Zero } };
            }

            _snapshot = Rescan(now);
            _checkedAt = now;
            return _snapshot;
        }
    }

    /// <summary>A model by repo id (or extra-folder id), from <see cref="GetModels"/>.</summary>
    public LocalModel? Find(string repoId) =>
        GetModels().Models.FirstOrDefault(m => string.Equals(m.RepoId, repoId, StringComparison.Ordinal));

    /// <summary>Forgets every cached result: the next <see cref="GetModels"/> reads every model folder again.</summary>
    public void Invalidate()
    {
        lock (_gate)
        {
            _entries = new(StringComparer.Ordinal);
            _snapshot = null;
        }
    }

    /// <summary>Read-only folders added at run time (the Settings page), scanned besides <see cref="LibraryOptions.ExtraModelFolders"/>.</summary>
    public IReadOnlyList<string> AdditionalFolders
    {
        get
        {
            lock (_gate)
            {
                return _additionalFolders;
            }
        }
    }

    /// <summary>All read-only folders scanned: configured ones, then those added at run time, without duplicates.</summary>
    public IReadOnlyList<string> ExtraFolders
    {
        get
        {
            lock (_gate)
            {
                return ExtraFoldersUnlocked();
            }
        }
    }

    /// <summary>Replaces the folders added at run time and forgets the cached scan when they changed.</summary>
    public void SetAdditionalFolders(IEnumerable<string> folders)
    {
        ArgumentNullException.ThrowIfNull(folders);
        var list = folders.Where(f => !string.IsNullOrWhiteSpace(f)).Select(f => f.Trim()).Distinct(StringComparer.Ordinal).ToList();
        lock (_gate)
        {
            if (list.SequenceEqual(_additionalFolders, StringComparer.Ordinal))
            {
                return;
            }

            _additionalFolders = list;
            _entries = new(StringComparer.Ordinal);
            _snapshot = null;
        }
    }

    private List<string> ExtraFoldersUnlocked() =>
        _options.ExtraModelFolders.Concat(_additionalFolders).Where(f => !string.IsNullOrWhiteSpace(f)).Distinct(StringComparer.Ordinal).ToList();

    /// <summary>
    /// Deletes a cache repo (its <c>models--org--name</c> folder and <c>.locks/models--org--name</c>). Refuses for
    /// read-only folders and when a guard (registered, or passed here) objects, e.g. because a running server uses it.
    /// </summary>
    public async Task<ModelDeletionResult> DeleteAsync(
        string repoId,
        Func<LocalModel, CancellationToken, ValueTask<string?>>? guard = null,
        CancellationToken cancellationToken = default)
    {
        ExpireCheck();
        var model = Find(repoId);
        if (model is null)
        {
            return new ModelDeletionResult(false, $"{repoId} is not in the library", 0);
        }

        if (model.ReadOnly || model.Kind != LibrarySourceKind.HubCache)
        {
            return new ModelDeletionResult(false, $"{repoId} is in a read-only folder ({model.RootPath}); the manager does not delete it", 0);
        }

        var expected = Path.GetFullPath(_environment.ModelFolder(model.RepoId));
        if (!string.Equals(Path.GetFullPath(model.RootPath), expected, StringComparison.Ordinal))
        {
            return new ModelDeletionResult(false, $"{repoId}: folder {model.RootPath} is not where the cache keeps it; not deleted", 0);
        }

        foreach (var check in _guards.Select(g => (Func<LocalModel, CancellationToken, ValueTask<string?>>)g.GetRefusalAsync).Append(guard))
        {
            if (check is not null && await check(model, cancellationToken).ConfigureAwait(false) is { } refusal)
            {
                return new ModelDeletionResult(false, refusal, 0);
            }
        }

        try
        {
            // Directory.Delete removes symlinks without following them, so blobs elsewhere are never touched.
            Directory.Delete(expected, recursive: true);
            var locks = _environment.LocksFolder(model.RepoId);
            if (Directory.Exists(locks))
            {
                Directory.Delete(locks, recursive: true);
            }

            LogDeleted(_logger, model.RepoId, model.SizeOnDisk);
            return new ModelDeletionResult(true, $"Deleted {model.RepoId} ({Discovery.ModelFormat.Bytes(model.SizeOnDisk)} freed)", model.SizeOnDisk);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            LogDeleteFailed(_logger, exception, model.RepoId);
            return new ModelDeletionResult(false, $"Could not delete {model.RepoId}: {exception.Message}", 0);
        }
        finally
        {
            ExpireCheck();
        }
    }

    // The next GetModels compares fingerprints instead of trusting the check interval.
    private void ExpireCheck()
    {
        lock (_gate)
        {
            _checkedAt = DateTimeOffset.MinValue;
        }
    }

    private LibrarySnapshot Rescan(DateTimeOffset now)
    {
        var watch = Stopwatch.StartNew();
        var problems = new List<string>();
        var next = new Dictionary<string, (string, LocalModel)>(StringComparer.Ordinal);
        var examined = 0;
        var reused = 0;

        // stamp(model) fingerprints a folder given what the last scan found in it (the snapshot in use).
        void Visit(string path, Func<LocalModel?, string> stamp, Func<List<string>, LocalModel> scan)
        {
            try
            {
                var known = _entries.TryGetValue(path, out var previous) ? previous.Model : null;
                var fingerprint = stamp(known);
                if (known is not null && previous.Stamp == fingerprint)
                {
                    next[path] = previous;
                    reused++;
                    return;
                }

                var model = scan(problems);
                // The fingerprint must cover the snapshot this scan settled on; it differs only on a first scan
                // or a revision change.
                next[path] = (model.SnapshotPath == known?.SnapshotPath ? fingerprint : stamp(model), model);
                examined++;
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
            {
                LogFolderUnreadable(_logger, exception, path);
                problems.Add($"{path} could not be read: {exception.Message}");
            }
        }

        var hubCacheExists = Directory.Exists(_environment.HubCache);
        if (hubCacheExists)
        {
            VisitHubCache(_environment.HubCache, LibrarySourceKind.HubCache, Visit, problems);
        }

        foreach (var folder in ExtraFoldersUnlocked())
        {
            VisitExtraFolder(folder, Visit, problems);
        }

        _entries = next;
        var models = next.Values.Select(e => e.Item2)
            .OrderBy(m => m.RepoId, StringComparer.OrdinalIgnoreCase)
            .ThenBy(m => m.Kind)
            .ToList();
        watch.Stop();
        LogScanned(_logger, models.Count, examined, reused, watch.ElapsedMilliseconds);
        return new LibrarySnapshot(models, now, _environment.HubCache, hubCacheExists, problems, new LibraryScanStatistics(examined, reused, false, watch.Elapsed));
    }

    private void VisitHubCache(string cache, LibrarySourceKind kind, Action<string, Func<LocalModel?, string>, Func<List<string>, LocalModel>> visit, List<string> problems)
    {
        IEnumerable<string> folders;
        try
        {
            folders = Directory.EnumerateDirectories(cache, HfCacheNames.ModelPrefix + "*").ToList();
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            LogFolderUnreadable(_logger, exception, cache);
            problems.Add($"{cache} could not be listed: {exception.Message}");
            return;
        }

        foreach (var folder in folders)
        {
            if (!HfCacheNames.TryParseModelFolderName(Path.GetFileName(folder), out var repoId))
            {
                continue;
            }

            visit(
                folder,
                known => ModelFolderScanner.HubRepoStamp(folder, known?.SnapshotPath is { } snapshot ? Path.GetFileName(snapshot) : null),
                found => ModelFolderScanner.ScanHubRepo(folder, repoId, kind, _manifests, found));
        }
    }

    // An extra folder is another HF cache, a model folder, or a folder of models one or two levels deep
    // (name/ or org/name/, as LM Studio lays them out).
    private void VisitExtraFolder(string configured, Action<string, Func<LocalModel?, string>, Func<List<string>, LocalModel>> visit, List<string> problems)
    {
        var folder = Path.GetFullPath(configured);
        if (!Directory.Exists(folder))
        {
            problems.Add($"extra model folder {configured} does not exist");
            return;
        }

        try
        {
            if (Directory.EnumerateDirectories(folder, HfCacheNames.ModelPrefix + "*").Any())
            {
                VisitHubCache(folder, LibrarySourceKind.ExtraFolder, visit, problems);
                return;
            }

            if (IsModelFolder(folder))
            {
                VisitPlain(folder, Path.GetFileName(folder), visit);
                return;
            }

            foreach (var child in Directory.EnumerateDirectories(folder))
            {
                if (IsModelFolder(child))
                {
                    VisitPlain(child, Path.GetFileName(child), visit);
                    continue;
                }

                foreach (var grandchild in Directory.EnumerateDirectories(child).Where(IsModelFolder))
                {
                    VisitPlain(grandchild, $"{Path.GetFileName(child)}/{Path.GetFileName(grandchild)}", visit);
                }
            }
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            LogFolderUnreadable(_logger, exception, folder);
            problems.Add($"extra model folder {configured} could not be listed: {exception.Message}");
        }
    }

    private static void VisitPlain(string folder, string displayId, Action<string, Func<LocalModel?, string>, Func<List<string>, LocalModel>> visit) =>
        visit(folder, _ => ModelFolderScanner.PlainFolderStamp(folder), _ => ModelFolderScanner.ScanPlainFolder(folder, displayId));

    private static bool IsModelFolder(string folder) => File.Exists(Path.Combine(folder, "config.json"));

    [LoggerMessage(Level = LogLevel.Debug, Message = "Library scan: {Count} models, {Examined} read, {Reused} unchanged, {ElapsedMs} ms")]
    private static partial void LogScanned(ILogger logger, int count, int examined, int reused, long elapsedMs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Model folder {Path} could not be read")]
    private static partial void LogFolderUnreadable(ILogger logger, Exception exception, string path);

    [LoggerMessage(Level = LogLevel.Information, Message = "Deleted model {RepoId} ({Bytes} bytes)")]
    private static partial void LogDeleted(ILogger logger, string repoId, long bytes);

    [LoggerMessage(Level = LogLevel.Error, Message = "Deleting model {RepoId} failed")]
    private static partial void LogDeleteFailed(ILogger logger, Exception exception, string repoId);
}
