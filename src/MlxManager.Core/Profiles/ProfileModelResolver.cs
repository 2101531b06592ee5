using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using MlxManager.Core.Discovery;
using MlxManager.Core.Engines;
using MlxManager.Core.Library;

namespace MlxManager.Core.Profiles;

/// <summary>
/// Characteristics of a model that is on this machine. The seam between profiles/servers and however detection
/// results are cached: <see cref="SnapshotCharacteristicsCache"/> computes on demand and keeps results in memory;
/// a database cache per repo@commit can replace it by registering its own implementation first.
/// </summary>
public interface ILocalModelCharacteristics
{
    /// <summary>
    /// The characteristics of the model in <paramref name="folder"/> (an HF snapshot or a plain model folder),
    /// or null when they cannot be read. <paramref name="repoId"/> and <paramref name="revision"/> identify
    /// cache snapshots (null for plain folders).
    /// </summary>
    Task<ModelCharacteristics?> GetAsync(string folder, string? repoId, string? revision, CancellationToken cancellationToken);
}

/// <summary>
/// Runs <see cref="ModelCharacteristicsDetector"/> on a model folder and keeps the result in memory, keyed by
/// the folder's path and its last-write time (a snapshot folder of a commit never changes; a plain folder is
/// read again when it does).
/// </summary>
public sealed partial class SnapshotCharacteristicsCache(ModelCharacteristicsDetector detector, ILogger<SnapshotCharacteristicsCache> logger)
    : ILocalModelCharacteristics
{
    private readonly ConcurrentDictionary<string, (DateTime Stamp, Task<ModelCharacteristics?> Result)> _cache = new(StringComparer.Ordinal);

    public Task<ModelCharacteristics?> GetAsync(string folder, string? repoId, string? revision, CancellationToken cancellationToken)
    {
        var path = Path.GetFullPath(folder);
        var stamp = Directory.Exists(path) ? Directory.GetLastWriteTimeUtc(path) : DateTime.MinValue;
        var entry = _cache.AddOrUpdate(
            path,
            _ => (stamp, DetectAsync(path, repoId)),
            (_, existing) => existing.Stamp == stamp && !existing.Result.IsFaulted ? existing : (stamp, DetectAsync(path, repoId)));
        return entry.Result.WaitAsync(cancellationToken);
    }

    private async Task<ModelCharacteristics?> DetectAsync(string folder, string? repoId)
    {
        if (!Directory.Exists(folder))
        {
            return null;
        }

        try
        {
            return await detector.DetectAsync(new FolderModelFileSource(folder, repoId)).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            LogUnreadable(logger, folder, e);
            return null;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not read the model in {Folder}")]
    private static partial void LogUnreadable(ILogger logger, string folder, Exception exception);
}

/// <summary>A profile's model as far as the form and the supervisor need it.</summary>
/// <param name="Reference">What the engine is given: the repo id, or the absolute folder.</param>
/// <param name="Local">The library entry, when the model is in the HF cache or an extra folder.</param>
/// <param name="Folder">The folder holding the model's files (a snapshot or the folder itself), null when not found.</param>
/// <param name="Characteristics">What detection found, null when the files could not be read.</param>
/// <param name="Problem">Why the model cannot be served as is (not downloaded, folder missing), else null.</param>
public sealed record ProfileModel(string Reference, LocalModel? Local, string? Folder, ModelCharacteristics? Characteristics, string? Problem)
{
    /// <summary>The model takes images (detected from its files, never from the profile).</summary>
    public bool IsMultimodal => Characteristics?.Vision?.Value == true;

    /// <summary>What the engine definitions need.</summary>
    public ResolvedModel Resolved => new(Reference, IsMultimodal);

    /// <summary>What the validator needs.</summary>
    public ProfileModelFacts Facts => new(Characteristics?.Context?.Tokens, Characteristics?.Thinking.Supported, Characteristics?.Vision?.Value);
}

/// <summary>
/// Finds a profile's model on this machine: a repo id in the library (HF cache or extra folders), or an absolute
/// folder; detects its characteristics through <see cref="ILocalModelCharacteristics"/>.
/// </summary>
public sealed class ProfileModelResolver(ModelLibrary library, ILocalModelCharacteristics characteristics)
{
    /// <summary>Resolves <paramref name="modelRef"/>; never throws for a missing model (see <see cref="ProfileModel.Problem"/>).</summary>
    public async Task<ProfileModel> ResolveAsync(string? modelRef, CancellationToken cancellationToken)
    {
        var reference = modelRef?.Trim() ?? "";
        if (reference.Length == 0)
        {
            return new ProfileModel("", null, null, null, "Choose a model: a downloaded one, or a folder that holds one.");
        }

        if (Path.IsPathFullyQualified(reference))
        {
            var local = library.GetModels().Models.FirstOrDefault(m =>
                string.Equals(m.SnapshotPath, reference, StringComparison.Ordinal) || string.Equals(m.RootPath, reference, StringComparison.Ordinal));
            if (!Directory.Exists(reference))
            {
                return new ProfileModel(reference, local, null, null, $"The folder {reference} does not exist.");
            }

            var found = await characteristics.GetAsync(reference, null, null, cancellationToken).ConfigureAwait(false);
            return new ProfileModel(reference, local, reference, found, null);
        }

        var model = library.Find(reference);
        if (model is null)
        {
            return new ProfileModel(reference, null, null, null,
                $"{reference} is not downloaded (looked in {library.Environment.HubCache}). Download it on the Models page first; the engines are not allowed to download it themselves.");
        }

        if (model.SnapshotPath is null)
        {
            return new ProfileModel(reference, model, null, null, $"{reference} has no snapshot folder in the cache yet (is its download finished?).");
        }

        var detected = await characteristics.GetAsync(model.SnapshotPath, model.Kind == LibrarySourceKind.HubCache ? model.RepoId : null, model.Revision, cancellationToken)
            .ConfigureAwait(false);
        var problem = model.Completeness == ModelCompleteness.Complete ? null : $"{reference} is not complete: {model.CompletenessReason}";
        // Extra-folder models are not in the HF cache: the engine gets their folder, not an id it could not resolve.
        var engineReference = model.Kind == LibrarySourceKind.HubCache ? model.RepoId : model.SnapshotPath;
        return new ProfileModel(engineReference, model, model.SnapshotPath, detected, problem);
    }

    /// <summary>The value a profile stores for a library model: its repo id in the HF cache, its folder otherwise.</summary>
    public static string ReferenceFor(LocalModel model) =>
        model.Kind == LibrarySourceKind.HubCache ? model.RepoId : model.SnapshotPath ?? model.RootPath;
}
