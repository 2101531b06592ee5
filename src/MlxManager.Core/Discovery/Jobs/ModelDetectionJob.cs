using Hangfire;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using MlxManager.Core.Data;
using MlxManager.Core.Hub;

namespace MlxManager.Core.Discovery.Jobs;

/// <summary>
/// Detects one repo@commit (a <see cref="ModelDetection"/> row) and stores the result or why it failed. For the Hub
/// it fetches only what detection reads: the file tree (sizes), the metadata files
/// (<see cref="ModelCharacteristicsDetector.IsMetadataFile"/>) and each safetensors header by Range requests (8 bytes,
/// then 8 + N); Hub tags and safetensors parameters come in as hints. For local models it reads the snapshot folder.
/// </summary>
public sealed partial class ModelDetectionJob(AppDbContext db, HubClient hub, ModelCharacteristicsDetector detector, TimeProvider time, ILogger<ModelDetectionJob> logger)
{
    /// <summary>Repos with more weight shards than this are sized from the tree and the Hub's parameter counts only.</summary>
    public const int MaxShardHeaders = 16;

    /// <summary>The Hangfire queue of detection jobs (served by the general server): a page that queues many never delays downloads.</summary>
    public const string HangfireQueue = "detections";

    [AutomaticRetry(Attempts = 0)]
    [Queue(HangfireQueue)]
    public async Task RunAsync(int detectionId, CancellationToken cancellationToken)
    {
        var row = await db.ModelDetections.FirstOrDefaultAsync(d => d.Id == detectionId, cancellationToken).ConfigureAwait(false);
        if (row is null || (row.State == DetectionState.Done && row.DetectorVersion >= ModelCharacteristicsDetector.Version))
        {
            return;
        }

        row.State = DetectionState.Running;
        row.StartedAtUtc = time.GetUtcNow().UtcDateTime;
        row.Attempts++;
        await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);

        try
        {
            IModelFileSource source = row.Source == DetectionSourceKind.Local
                ? LocalSource(row)
                : await HubSourceAsync(row.RepoId, row.Commit, cancellationToken).ConfigureAwait(false);
            var characteristics = await detector.DetectAsync(source, ModelDetections.DeserializeHints(row.HintsJson), cancellationToken).ConfigureAwait(false);
            row.CharacteristicsJson = ModelDetections.Serialize(characteristics with { RepoId = row.RepoId });
            row.DetectorVersion = characteristics.DetectorVersion;
            row.State = DetectionState.Done;
            row.Failure = null;
            LogDetected(logger, row.RepoId, row.Commit, characteristics.Badges.Count);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The app is stopping: leave it queued for the next run.
            row.State = DetectionState.Queued;
            await db.SaveChangesAsync(CancellationToken.None).ConfigureAwait(false);
            throw;
        }
        catch (HubException exception)
        {
            Fail(row, exception.Message, exception);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or InvalidOperationException or ArgumentException)
        {
            Fail(row, $"{exception.GetType().Name}: {exception.Message}", exception);
        }

        row.FinishedAtUtc = time.GetUtcNow().UtcDateTime;
        await db.SaveChangesAsync(CancellationToken.None).ConfigureAwait(false);
    }

    private void Fail(ModelDetection row, string why, Exception exception)
    {
        LogFailed(logger, exception, row.RepoId, row.Commit);
        row.State = DetectionState.Failed;
        row.Failure = why.Length > 2000 ? why[..2000] : why;
    }

    private static FolderModelFileSource LocalSource(ModelDetection row)
    {
        if (row.LocalPath is not { } path || !Directory.Exists(path))
        {
            throw new IOException($"the model folder {row.LocalPath ?? "(none)"} no longer exists");
        }

        return new FolderModelFileSource(path, row.RepoId);
    }

    private async Task<InMemoryModelFileSource> HubSourceAsync(string repoId, string commit, CancellationToken cancellationToken)
    {
        var tree = await hub.GetTreeAsync(repoId, commit, cancellationToken: cancellationToken).ConfigureAwait(false);
        var files = tree.Where(e => !e.IsDirectory).Select(e => new ModelFileEntry(e.Path, e.Size)).ToList();

        var texts = new Dictionary<string, string>(StringComparer.Ordinal);
        // A metadata file bigger than the cap (by its size in the tree) is skipped: detection reports it as unavailable.
        foreach (var file in files.Where(f => ModelCharacteristicsDetector.IsMetadataFile(f.Path) && (f.Size ?? 0) <= hub.MaxMetadataFileBytes))
        {
            texts[file.Path] = await hub.ReadTextAsync(repoId, file.Path, commit, cancellationToken).ConfigureAwait(false);
        }

        var prefixes = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        var shards = files.Where(f => f.Path.EndsWith(".safetensors", StringComparison.Ordinal)).ToList();
        if (shards.Count <= MaxShardHeaders)
        {
            foreach (var shard in shards)
            {
                var first = await hub.ReadPrefixAsync(repoId, shard.Path, 8, commit, cancellationToken).ConfigureAwait(false);
                if (SafetensorsHeader.ReadHeaderLength(first) is not { } length || length is <= 1 or > SafetensorsHeader.MaxHeaderLength)
                {
                    // Not a readable header: detection reports it and falls back to the Hub's counts.
                    prefixes[shard.Path] = first;
                    continue;
                }

                prefixes[shard.Path] = await hub.ReadPrefixAsync(repoId, shard.Path, (int)(8 + length), commit, cancellationToken).ConfigureAwait(false);
            }
        }

        return new InMemoryModelFileSource(repoId, files, texts, prefixes);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Detected {RepoId}@{Commit}: {Badges} badges")]
    private static partial void LogDetected(ILogger logger, string repoId, string commit, int badges);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Detection of {RepoId}@{Commit} failed")]
    private static partial void LogFailed(ILogger logger, Exception exception, string repoId, string commit);
}
