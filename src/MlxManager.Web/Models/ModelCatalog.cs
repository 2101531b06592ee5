using Microsoft.EntityFrameworkCore;
using MlxManager.Core.Data;
using MlxManager.Core.Discovery;
using MlxManager.Core.Discovery.Jobs;
using MlxManager.Core.Downloads;
using MlxManager.Core.Engines;
using MlxManager.Core.Engines.Compatibility;
using MlxManager.Core.Hub;
using MlxManager.Core.Library;
using MlxManager.Core.Platform;
using MlxManager.Web.Pages.Models;

namespace MlxManager.Web.Models;

/// <summary>One tile of the Models page: what the Hub or the library says, plus detection and the memory verdict.</summary>
/// <param name="Detection">Null when no commit is known (nothing to detect).</param>
/// <param name="SizeBytes">Weights when detected, else what the library or Hub says.</param>
/// <param name="SizeSource">Where <paramref name="SizeBytes"/> comes from, for its tooltip.</param>
/// <param name="Local">The local copy (local tab, or a Hub result already on this machine).</param>
/// <param name="ProfileRef">What "Create profile" passes as the model: the repo id, or the folder of a read-only model.</param>
public sealed record ModelTile(
    string RepoId,
    string Author,
    string Name,
    bool FromHub,
    DetectionStatus? Detection,
    long? SizeBytes,
    string SizeSource,
    long? Downloads,
    long? Likes,
    DateTimeOffset? Updated,
    string? Gated,
    LocalModel? Local,
    int ProfileCount,
    MemoryEstimate? Memory,
    string ProfileRef)
{
    public ModelCharacteristics? Characteristics => Detection?.Characteristics;

    public bool IsDetecting => Detection?.IsPending == true;

    /// <summary>Which engines can load the model (from its detected model_type); "not detected yet" until then.</summary>
    public CompatibilityReport Engines { get; init; } = EngineCompatibility.Shipped.Check(null);

    /// <summary>An engine installed on this machine can load the model.</summary>
    public bool RunsHere { get; init; }

    /// <summary>A stable, id-safe key for element ids.</summary>
    public string Slug { get; } = string.Concat(RepoId.Select(c => char.IsAsciiLetterOrDigit(c) ? char.ToLowerInvariant(c) : '-'));
}

/// <summary>What the results region renders.</summary>
/// <param name="Hidden">Results left out by the filters.</param>
/// <param name="HubProblem">Why the Hub tab has no results (offline, unreachable, refused), in plain words.</param>
/// <param name="HasMore">The Hub has another page.</param>
public sealed record ModelsView(
    ModelQuery Query,
    IReadOnlyList<ModelTile> Tiles,
    int Hidden,
    string? HubProblem,
    HubErrorKind? HubProblemKind,
    string Endpoint,
    bool HasMore,
    LibrarySnapshot? Library,
    SystemMemory Memory,
    bool IsAdmin,
    IReadOnlySet<string> InstalledEngines,
    DateTimeOffset Now,
    string? Notice = null,
    bool NoticeIsError = false,
    int? Matching = null,
    int? PendingMatching = null)
{
    /// <summary>Models that match the query; more than <see cref="Tiles"/> when the local list is shown a page at a time.</summary>
    public int MatchingCount => Matching ?? Tiles.Count;

    /// <summary>Matching models still being detected, shown or not (the list polls until none is left).</summary>
    public int Pending => PendingMatching ?? Tiles.Count(t => t.IsDetecting);
}

/// <summary>
/// Builds the Models page's list for a <see cref="ModelQuery"/>: Hub search (cached pages) or the local library,
/// detection statuses for all tiles in one query (queuing what is missing), profile counts in one query, filters,
/// memory verdicts, which engines can load each model. Scoped.
/// </summary>
public sealed partial class ModelCatalog(
    ModelLibrary library,
    ModelDetections detections,
    HubClient hub,
    HubSearchCache searches,
    ModelSettingsStore settings,
    ISystemMemoryProbe memoryProbe,
    DownloadBoard downloads,
    EngineCompatibility compatibility,
    InstalledEngines installedEngines,
    AppDbContext db,
    TimeProvider time,
    ILogger<ModelCatalog> logger)
{
    /// <summary>Local tiles per page ("show more" adds a page).</summary>
    public const int LocalPageSize = 48;

    public async Task<ModelsView> BuildAsync(ModelQuery query, bool isAdmin, CancellationToken cancellationToken)
    {
        var memory = memoryProbe.Read();
        var now = time.GetUtcNow();
        var connection = await hub.GetConnectionAsync(cancellationToken);
        var endpoint = connection.Endpoint.ToString().TrimEnd('/');
        var snapshot = library.GetModels();
        var profiles = await ProfileCountsAsync(cancellationToken);
        var installed = installedEngines.Keys();

        // A model with an open download shows as its download tile only (above the results), on both tabs. The board
        // is read again whenever a download changes, so its current state is fresh enough and costs nothing here.
        var downloading = (await downloads.GetAsync(cancellationToken)).OpenRepoIds;

        if (query.IsLocal)
        {
            var models = snapshot.Models.Where(m => Matches(query.Search, m.RepoId) && !(m.Kind == LibrarySourceKind.HubCache && downloading.Contains(m.RepoId))).ToList();
            var requests = models.Where(m => m.SnapshotPath is not null).Select(m => new DetectionRequest(m.RepoId, LocalCommit(m), DetectionSourceKind.Local, m.SnapshotPath)).ToList();
            var statuses = await detections.EnsureAsync(requests, cancellationToken);
            var detected = models.Select(m => (Model: m, Detection: m.SnapshotPath is null ? null : statuses.GetValueOrDefault(ModelDetections.Key(m.RepoId, LocalCommit(m))))).ToList();
            var pageSize = LocalPageSize * query.Pages;
            if (!query.HasFilters)
            {
                // Nothing to filter: the counts come from the detection statuses alone, and only the page's tiles are
                // built (engines, memory verdict), so 5,000 cached models cost what a page of them does.
                var page = detected.Take(pageSize).Select(d => WithEngines(installed, LocalTile(d.Model, d.Detection, profiles, query, memory, estimate: true))).ToList();
                return new ModelsView(query, page, 0, null, null, endpoint, page.Count < detected.Count, snapshot, memory, isAdmin, installed, now,
                    Matching: detected.Count, PendingMatching: detected.Count(d => d.Detection?.IsPending == true));
            }

            // The memory estimate (a few formatted strings) is worked out for every model only when a filter needs it.
            var tiles = detected.Select(d => WithEngines(installed, LocalTile(d.Model, d.Detection, profiles, query, memory, query.FitsInMemory))).ToList();
            var matching = tiles.Where(t => Keep(t, query)).ToList();
            // Filters see every model; the page renders a store-sized slice, so 500 cached models cost what 48 do.
            var shown = matching.Take(pageSize)
                .Select(t => t.Memory is null ? t with { Memory = Estimate(t.Characteristics, t.SizeBytes, query, memory) } : t)
                .ToList();
            return new ModelsView(query, shown, tiles.Count - matching.Count, null, null, endpoint, shown.Count < matching.Count, snapshot, memory, isAdmin, installed, now,
                Matching: matching.Count, PendingMatching: matching.Count(t => t.IsDetecting));
        }

        var current = await settings.GetAsync(cancellationToken);
        var search = new HubSearchQuery(query.Search, current.SearchAuthors, query.Sort, current.SearchPageSize);
        IReadOnlyList<HubSearchPage> pages;
        try
        {
            pages = await searches.GetPagesAsync(hub, search, query.Pages, cancellationToken);
        }
        catch (HubException exception)
        {
            LogSearchFailed(logger, exception.Kind, exception.Message);
            return new ModelsView(query, [], 0, exception.Message, exception.Kind, endpoint, false, snapshot, memory, isAdmin, installed, now);
        }

        var results = pages.SelectMany(p => p.Models).DistinctBy(m => m.Id, StringComparer.Ordinal).Where(m => !downloading.Contains(m.Id)).ToList();
        var hubRequests = results.Where(m => m.Sha is not null)
            .Select(m => new DetectionRequest(m.Id, m.Sha!, DetectionSourceKind.Hub, null, new DetectionHints(m.Tags, m.SafetensorsParameters)))
            .ToList();
        var hubStatuses = await detections.EnsureAsync(hubRequests, cancellationToken);
        var localById = snapshot.Models.Where(m => m.Kind == LibrarySourceKind.HubCache).GroupBy(m => m.RepoId, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        var hubTiles = results.Select(m => WithEngines(installed, HubTile(m, m.Sha is null ? null : hubStatuses.GetValueOrDefault(ModelDetections.Key(m.Id, m.Sha)), localById.GetValueOrDefault(m.Id), profiles, query, memory))).ToList();
        var kept = hubTiles.Where(t => Keep(t, query)).ToList();
        return new ModelsView(query, kept, hubTiles.Count - kept.Count, null, null, endpoint, pages[^1].Next is not null, snapshot, memory, isAdmin, installed, now);
    }

    /// <summary>The detection key of a local model: its commit, or a fingerprint of a plain folder.</summary>
    public static string LocalCommit(LocalModel model) =>
        model.Revision ?? $"folder-{model.LastModified.UtcTicks:x}-{model.SnapshotBytes:x}";

    private ModelTile WithEngines(IReadOnlySet<string> installed, ModelTile tile)
    {
        var report = compatibility.Check(tile.Characteristics);
        return tile with { Engines = report, RunsHere = report.Loading.Any(e => installed.Contains(e.EngineKey)) };
    }

    private static bool Matches(string? search, string repoId) =>
        string.IsNullOrWhiteSpace(search)
        || search.Split(' ', StringSplitOptions.RemoveEmptyEntries).All(word => repoId.Contains(word, StringComparison.OrdinalIgnoreCase));

    private async Task<Dictionary<string, int>> ProfileCountsAsync(CancellationToken cancellationToken)
    {
        var counts = await db.Profiles.AsNoTracking().GroupBy(p => p.ModelRef).Select(g => new { g.Key, Count = g.Count() }).ToListAsync(cancellationToken);
        return counts.ToDictionary(c => c.Key, c => c.Count, StringComparer.Ordinal);
    }

    private static int ProfileCount(Dictionary<string, int> profiles, string repoId, LocalModel? local)
    {
        var count = profiles.GetValueOrDefault(repoId);
        if (local is not null)
        {
            count += profiles.GetValueOrDefault(local.RootPath) + (local.SnapshotPath is { } snapshot && snapshot != local.RootPath ? profiles.GetValueOrDefault(snapshot) : 0);
        }

        return count;
    }

    private static ModelTile LocalTile(LocalModel model, DetectionStatus? detection, Dictionary<string, int> profiles, ModelQuery query, SystemMemory memory, bool estimate)
    {
        var slash = model.RepoId.IndexOf('/', StringComparison.Ordinal);
        var characteristics = detection?.Characteristics;
        var (size, sizeSource) = characteristics?.WeightBytes is { } weights
            ? (weights.Value, weights.Source)
            : (model.SnapshotBytes, $"files of the snapshot on disk ({ModelFormat.Bytes(model.SizeOnDisk)} with every revision and partial file)");
        var isCacheRepo = model.Kind == LibrarySourceKind.HubCache;
        return new ModelTile(
            model.RepoId,
            slash > 0 ? model.RepoId[..slash] : model.Kind == LibrarySourceKind.ExtraFolder ? "extra folder" : string.Empty,
            slash > 0 ? model.RepoId[(slash + 1)..] : model.RepoId,
            FromHub: false,
            detection,
            size,
            sizeSource,
            null,
            null,
            model.LastModified,
            null,
            model,
            ProfileCount(profiles, model.RepoId, model),
            estimate ? Estimate(characteristics, size, query, memory) : null,
            isCacheRepo ? model.RepoId : model.SnapshotPath ?? model.RootPath);
    }

    private static ModelTile HubTile(HubModel model, DetectionStatus? detection, LocalModel? local, Dictionary<string, int> profiles, ModelQuery query, SystemMemory memory)
    {
        var characteristics = detection?.Characteristics;
        var (size, sizeSource) = characteristics?.WeightBytes is { } weights
            ? ((long?)weights.Value, weights.Source)
            : model.UsedStorage is { } used
                ? (used, "the Hub's usedStorage for the repository (every revision's files)")
                : (null, "unknown");
        return new ModelTile(
            model.Id,
            model.Author,
            model.Name,
            FromHub: true,
            detection,
            size,
            sizeSource,
            model.Downloads,
            model.Likes,
            model.LastModified,
            model.Gated,
            local,
            ProfileCount(profiles, model.Id, local),
            Estimate(characteristics, size, query, memory),
            model.Id);
    }

    private static MemoryEstimate? Estimate(ModelCharacteristics? characteristics, long? size, ModelQuery query, SystemMemory memory)
    {
        if (characteristics is not null)
        {
            return MemoryEstimator.Estimate(characteristics, query.Context, memory);
        }

        return size is { } bytes ? MemoryEstimator.Estimate(bytes, null, query.Context, memory) : null;
    }

    // A tile stays when every active filter matches. Undetected tiles stay while detection runs (they say so, and
    // the next poll decides); a failed detection cannot satisfy a characteristic filter.
    private static bool Keep(ModelTile tile, ModelQuery query)
    {
        if (query.MaxSizeGb is { } maxGb && tile.SizeBytes is { } size && size > maxGb * 1_000_000_000L)
        {
            return false;
        }

        if (!query.FiltersOnCharacteristics)
        {
            return true;
        }

        if (tile.Characteristics is not { } model)
        {
            return tile.IsDetecting;
        }

        if (!string.IsNullOrWhiteSpace(query.Architecture)
            && !(model.Architecture?.Value.Contains(query.Architecture, StringComparison.OrdinalIgnoreCase) == true
                 || model.ModelType?.Contains(query.Architecture, StringComparison.OrdinalIgnoreCase) == true))
        {
            return false;
        }

        if (query.Bits is { } bits)
        {
            var actual = model.Quantization is { IsQuantized: true, Bits: { } b } ? b : model.Quantization is { IsQuantized: false } ? 16 : (int?)null;
            if (actual != bits)
            {
                return false;
            }
        }

        if ((query.Vision && model.Vision?.Value != true)
            || (query.Tools && model.Tools.Supported != true)
            || (query.Thinking && model.Thinking.Supported != true))
        {
            return false;
        }

        if (query.RunsHere && !tile.RunsHere)
        {
            return false;
        }

        if (query.MinContext is { } minimum && (model.Context?.Tokens ?? 0) < minimum)
        {
            return false;
        }

        return !query.FitsInMemory || tile.Memory?.Verdict is MemoryVerdict.Fits or MemoryVerdict.Tight;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Hub search failed ({Kind}): {Message}")]
    private static partial void LogSearchFailed(ILogger logger, HubErrorKind kind, string message);
}
