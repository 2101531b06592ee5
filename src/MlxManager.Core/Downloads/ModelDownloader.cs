using System.Buffers;
using System.Net.Http;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Win32.SafeHandles;
using MlxManager.Core.Discovery;
using MlxManager.Core.Hub;
using MlxManager.Core.Library;

namespace MlxManager.Core.Downloads;

/// <summary>
/// Downloads every file of one commit of a model repository into the Hugging Face cache, byte for byte the layout
/// huggingface_hub writes (see <see cref="HfCacheRepo"/>). Files stream into <c>blobs/&lt;etag&gt;.incomplete</c>
/// through one pooled buffer each (constant memory), several at once; an interrupted file resumes with
/// <c>Range: bytes=&lt;have&gt;-</c> after a fresh resolve (CDN links are signed and expire), a 200 instead of a 206
/// starts it over; the sha256 of LFS files (the git blob sha1 of the others) is computed while streaming, each piece
/// as its read returns and just before it is written (<see cref="HashingBlobWriter"/>; the bytes already on disk first)
/// and must equal the ETag before the file is renamed into place under its
/// <c>.locks/…/&lt;etag&gt;.lock</c>. Then the snapshot is linked and <c>refs/&lt;revision&gt;</c> written last.
/// </summary>
/// <remarks>
/// The Hangfire download job drives this class; the benchmark (<c>tools/Bench downloads</c>) calls it the same way.
/// Requests are retried by the Hub client's pipeline only (<see cref="HubResilience"/>); this class retries what is
/// particular to transfers: one broken after its headers resumes from the bytes already verified, at most
/// <see cref="DownloadOptions.MaxRetries"/> times in a row. Failures that retrying cannot fix end as <see cref="DownloadFailedException"/> or a <see cref="HubException"/>
/// whose message is meant for the user.
/// </remarks>
public sealed partial class ModelDownloader
{
    private readonly HubClient _hub;
    private readonly HfEnvironment _environment;
    private readonly IDiskSpace _diskSpace;
    private readonly FileRepoManifestStore _manifests;
    private readonly ModelLibrary? _library;
    private readonly DownloadOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    public ModelDownloader(
        HubClient hub,
        HfEnvironment environment,
        IDiskSpace diskSpace,
        FileRepoManifestStore manifests,
        IOptions<DownloadOptions> options,
        TimeProvider? timeProvider = null,
        ILogger<ModelDownloader>? logger = null,
        ModelLibrary? library = null)
    {
        _hub = hub ?? throw new ArgumentNullException(nameof(hub));
        _environment = environment ?? throw new ArgumentNullException(nameof(environment));
        _diskSpace = diskSpace ?? throw new ArgumentNullException(nameof(diskSpace));
        _manifests = manifests ?? throw new ArgumentNullException(nameof(manifests));
        _options = options?.Value ?? new DownloadOptions();
        _time = timeProvider ?? TimeProvider.System;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _library = library;
    }

    /// <summary>The cache folder of <paramref name="repoId"/> in the configured Hugging Face cache.</summary>
    public HfCacheRepo CacheOf(string repoId) => new(_environment.HubCache, repoId);

    /// <summary>
    /// Resolves what to download: the commit of <paramref name="revision"/> (model info), its file tree, and a
    /// <c>HEAD</c> of one file to learn at once whether the files may be read (a gated model answers there).
    /// </summary>
    /// <param name="pinnedCommit">The commit an earlier run resolved: a resumed download keeps to it.</param>
    /// <remarks>Each request is retried by the Hub client's pipeline; a failure that outlasts it fails the plan.</remarks>
    public async Task<DownloadPlan> PlanAsync(string repoId, string revision = "main", string? pinnedCommit = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(repoId);
        var commit = pinnedCommit;
        if (commit is null)
        {
            var model = await _hub.GetModelAsync(repoId, revision, cancellationToken: cancellationToken).ConfigureAwait(false);
            commit = model.Sha;
        }

        var tree = await _hub.GetTreeAsync(repoId, commit ?? revision, cancellationToken: cancellationToken).ConfigureAwait(false);
        var files = tree.Where(e => !e.IsDirectory).ToList();
        if (files.Count == 0)
        {
            throw new DownloadFailedException($"{repoId} has no files at {Short(commit ?? revision)}; there is nothing to download.");
        }

        var probe = files.OrderBy(f => f.Size).ThenBy(f => f.Path, StringComparer.Ordinal).First();
        var metadata = await _hub.GetFileMetadataAsync(repoId, probe.Path, commit ?? revision, cancellationToken).ConfigureAwait(false);
        commit ??= metadata.Commit;
        if (commit is null || !commit.All(char.IsAsciiLetterOrDigit) || commit.Length < 7)
        {
            throw new DownloadFailedException($"The Hub did not say which commit {revision} of {repoId} is; cannot place it in the cache.");
        }

        var plan = DownloadPlan.FromTree(repoId, revision, commit, files);
        LogPlanned(_logger, repoId, Short(commit), plan.Files.Count, plan.TotalBytes);
        return plan;
    }

    /// <summary>
    /// What is on disk for <paramref name="plan"/> already: finished blobs and the length of partial ones.
    /// </summary>
    public DownloadInventory Inventory(DownloadPlan plan)
    {
        var cache = CacheOf(plan.RepoId);
        long done = 0, partial = 0;
        var finished = new HashSet<string>(StringComparer.Ordinal);
        foreach (var file in plan.Files.DistinctBy(f => f.Etag))
        {
            var blob = new FileInfo(cache.BlobPath(file.Etag));
            if (blob.Exists && blob.Length == file.Size)
            {
                finished.Add(file.Etag);
                continue;
            }

            var incomplete = new FileInfo(cache.IncompletePath(file.Etag));
            if (incomplete.Exists && incomplete.Length <= file.Size)
            {
                partial += incomplete.Length;
            }
        }

        foreach (var file in plan.Files)
        {
            if (finished.Contains(file.Etag))
            {
                done += file.Size;
            }
        }

        return new DownloadInventory(done, partial, finished);
    }

    /// <summary>
    /// Downloads every file of <paramref name="plan"/> that is not in the cache yet, then links the snapshot and writes
    /// <c>refs/&lt;revision&gt;</c>. Safe to call again after any interruption: it continues from what is on disk.
    /// </summary>
    public async Task DownloadAsync(DownloadPlan plan, DownloadProgress progress, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(progress);
        var cache = CacheOf(plan.RepoId);
        try
        {
            cache.EnsureFolders();
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            throw new DownloadFailedException($"Cannot write to the Hugging Face cache at {_environment.HubCache}: {exception.Message}", exception);
        }

        _manifests.Save(new RepoManifest(plan.RepoId, plan.Commit, plan.Files.Select(f => new RepoManifestFile(f.Path, f.Size)).ToList()));
        var useSymlinks = cache.SupportsSymlinks();
        if (!useSymlinks)
        {
            LogNoSymlinks(_logger, _environment.HubCache, cache.SymlinkProblem ?? "unknown reason");
        }

        ReleaseLeftReservations(cache, plan);
        var inventory = Inventory(plan);
        progress.Begin(plan.TotalBytes, plan.Files.Count);
        progress.AddExisting(inventory.CompletedBytes + inventory.PartialBytes);
        var pending = plan.Files.Where(f => !inventory.Finished.Contains(f.Etag)).DistinctBy(f => f.Etag).ToList();
        var needed = pending.Sum(f => f.Size) - inventory.PartialBytes + (useSymlinks ? 0 : plan.TotalBytes);
        CheckFreeSpace(plan, cache, needed);

        foreach (var file in plan.Files.Where(f => inventory.Finished.Contains(f.Etag)))
        {
            progress.FileDone(file.Path);
        }

        progress.Phase = DownloadPhase.Transferring;
        await Parallel.ForEachAsync(
            pending.OrderByDescending(f => f.Size),
            new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, _options.ParallelFiles), CancellationToken = cancellationToken },
            (file, token) => new ValueTask(FetchAsync(cache, plan, file, progress, token))).ConfigureAwait(false);

        // Files sharing one blob (same content under two names) count as done once they are linked.
        foreach (var twin in plan.Files.Except(pending).Where(f => !inventory.Finished.Contains(f.Etag)))
        {
            progress.FileDone(twin.Path);
        }

        progress.Phase = DownloadPhase.Finishing;
        cancellationToken.ThrowIfCancellationRequested();
        try
        {
            foreach (var file in plan.Files)
            {
                if (!cache.IsLinked(plan.Commit, file.Path, file.Etag, file.Size))
                {
                    cache.LinkSnapshot(plan.Commit, file.Path, file.Etag, useSymlinks);
                }
            }

            // Last: once refs/main names the commit, huggingface_hub and mlx-lm treat the snapshot as the model.
            if (!string.Equals(plan.Revision, plan.Commit, StringComparison.Ordinal))
            {
                cache.WriteRef(plan.Revision, plan.Commit);
            }
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            throw new DownloadFailedException($"Every file of {plan.RepoId} arrived, but linking the snapshot failed: {exception.Message}", exception);
        }

        _library?.Invalidate();
        LogCompleted(_logger, plan.RepoId, Short(plan.Commit), progress.ReceivedBytes);
    }

    /// <summary>
    /// Removes what a cancelled download leaves: the <c>.incomplete</c> files of <paramref name="plan"/> (each only when
    /// its lock is free, so another program's transfer is never cut), and the whole repository folder with its locks
    /// when nothing usable remains in it (no ref, no other snapshot, no lock held).
    /// </summary>
    /// <returns>Bytes removed.</returns>
    public long RemovePartials(string repoId, DownloadPlan? plan)
    {
        var cache = CacheOf(repoId);
        long removed = 0;
        foreach (var file in plan?.Files.DistinctBy(f => f.Etag) ?? [])
        {
            var incomplete = new FileInfo(cache.IncompletePath(file.Etag));
            if (!incomplete.Exists)
            {
                continue;
            }

            using var held = BlobLock.TryAcquire(cache.LockPath(file.Etag));
            if (held is null)
            {
                LogPartialBusy(_logger, incomplete.FullName);
                continue;
            }

            removed += incomplete.Length;
            incomplete.Delete();
        }

        if (Directory.Exists(cache.Folder) && NothingUsableLeft(cache, plan?.Commit))
        {
            removed += FolderBytes(cache.Folder);
            Directory.Delete(cache.Folder, recursive: true);
            if (Directory.Exists(cache.LocksFolder))
            {
                Directory.Delete(cache.LocksFolder, recursive: true);
            }

            _library?.Invalidate();
        }

        LogRemovedPartials(_logger, repoId, removed);
        return removed;
    }

    private static bool NothingUsableLeft(HfCacheRepo cache, string? commit)
    {
        var refs = Path.Combine(cache.Folder, "refs");
        if (Directory.Exists(refs) && Directory.EnumerateFileSystemEntries(refs).Any())
        {
            return false;
        }

        var snapshots = Path.Combine(cache.Folder, "snapshots");
        if (Directory.Exists(snapshots) && Directory.EnumerateDirectories(snapshots).Any(d => !string.Equals(Path.GetFileName(d), commit, StringComparison.Ordinal)))
        {
            return false;
        }

        if (Directory.Exists(cache.LocksFolder))
        {
            foreach (var lockFile in Directory.EnumerateFiles(cache.LocksFolder, "*.lock"))
            {
                using var held = BlobLock.TryAcquire(lockFile);
                if (held is null)
                {
                    return false;
                }
            }
        }

        return true;
    }

    private static long FolderBytes(string folder) =>
        new DirectoryInfo(folder).EnumerateFiles("*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 })
            .Where(f => f.LinkTarget is null)
            .Sum(f => f.Length);

    private void CheckFreeSpace(DownloadPlan plan, HfCacheRepo cache, long needed)
    {
        if (needed <= 0)
        {
            return;
        }

        long free;
        try
        {
            free = _diskSpace.AvailableBytes(cache.BlobsFolder);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or ArgumentException or PlatformNotSupportedException)
        {
            LogSpaceUnknown(_logger, exception, cache.BlobsFolder);
            return;
        }

        if (needed > free)
        {
            throw new DownloadFailedException(
                $"Not enough free disk space for {plan.RepoId}: it needs {ModelFormat.Bytes(needed)} more, but only {ModelFormat.Bytes(free)} is free on the disk of the Hugging Face cache ({_environment.HubCache}). Free some space (or point HF_HUB_CACHE at a bigger disk), then retry.");
        }
    }

    /// <summary>One file, with retries: under its blob lock, resume or start, verify, rename into place.</summary>
    private async Task FetchAsync(HfCacheRepo cache, DownloadPlan plan, PlannedFile file, DownloadProgress progress, CancellationToken cancellationToken)
    {
        using var blobLock = await BlobLock.AcquireAsync(cache.LockPath(file.Etag), _time, () => LogWaitingForLock(_logger, file.Path, cache.LockPath(file.Etag)), cancellationToken).ConfigureAwait(false);
        var blob = cache.BlobPath(file.Etag);
        if (new FileInfo(blob) is { Exists: true } existing && existing.Length == file.Size)
        {
            // Another program finished it while we waited for the lock.
            var partial = new FileInfo(cache.IncompletePath(file.Etag));
            progress.AddExisting(file.Size - (partial.Exists ? partial.Length : 0));
            progress.FileDone(file.Path);
            return;
        }

        var failures = 0;
        var done = false;
        try
        {
            while (true)
            {
                var attempt = new Attempt();
                try
                {
                    await TransferAsync(cache, plan, file, progress, attempt, cancellationToken).ConfigureAwait(false);
                    progress.FileDone(file.Path);
                    done = true;
                    return;
                }
                catch (Exception exception) when (IsRetryable(exception, cancellationToken))
                {
                    failures = attempt.ReceivedBytes > 0 && exception is not CorruptBlobException ? 1 : failures + 1;
                    if (failures > _options.MaxRetries)
                    {
                        throw new DownloadFailedException($"Gave up on {file.Path} after {failures} failed attempts in a row: {Describe(exception)}", exception);
                    }

                    var delay = BackOff(failures);
                    LogRetry(_logger, plan.RepoId, file.Path, failures, Describe(exception), delay.TotalMilliseconds);
                    await Task.Delay(delay, _time, cancellationToken).ConfigureAwait(false);
                }
            }
        }
        finally
        {
            if (!done)
            {
                // Still under the blob's lock: nobody else is writing it.
                ReleaseReservation(cache.IncompletePath(file.Etag));
            }

            progress.FileStopped(file.Path);
        }
    }

    /// <summary>
    /// A process killed mid-transfer leaves partial files with disk reserved past their end (see
    /// <see cref="PartialBlobFile.Open"/>); free space counts that as used, so the space check would ask for the missing
    /// bytes twice. Each is given back here, when its lock is free: a file another program is writing keeps its own.
    /// </summary>
    private void ReleaseLeftReservations(HfCacheRepo cache, DownloadPlan plan)
    {
        foreach (var file in plan.Files.DistinctBy(f => f.Etag))
        {
            var incomplete = cache.IncompletePath(file.Etag);
            if (!File.Exists(incomplete))
            {
                continue;
            }

            using var held = BlobLock.TryAcquire(cache.LockPath(file.Etag));
            if (held is not null)
            {
                ReleaseReservation(incomplete);
            }
        }
    }

    private void ReleaseReservation(string incomplete)
    {
        try
        {
            PartialBlobFile.ReleaseReservation(incomplete);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            LogReservationKept(_logger, exception, incomplete);
        }
    }

    private async Task TransferAsync(HfCacheRepo cache, DownloadPlan plan, PlannedFile file, DownloadProgress progress, Attempt attempt, CancellationToken cancellationToken)
    {
        var incomplete = cache.IncompletePath(file.Etag);
        using var hash = ContentHash.For(file);
        using (var handle = PartialBlobFile.Open(incomplete, file.Size))
        {
            var have = RandomAccess.GetLength(handle);
            progress.FileStarted(file.Path, file.Size, Math.Min(have, file.Size));
            if (have > file.Size)
            {
                LogTooLong(_logger, file.Path, have, file.Size);
                progress.Discarded(file.Path, have);
                PartialBlobFile.Truncate(handle, incomplete);
                have = 0;
            }

            if (have > 0)
            {
                progress.SetChecking(file.Path, true);
                await PartialBlobFile.HashPrefixAsync(handle, have, hash, ChunkBytes, cancellationToken).ConfigureAwait(false);
                progress.SetChecking(file.Path, false);
            }

            if (have < file.Size)
            {
                have = await StreamAsync(plan, file, handle, incomplete, have, hash, progress, attempt, cancellationToken).ConfigureAwait(false);
            }
        }

        if (hash.Expected is { } expected)
        {
            var actual = hash.Finish();
            if (!string.Equals(actual, expected, StringComparison.OrdinalIgnoreCase))
            {
                File.Delete(incomplete);
                progress.Discarded(file.Path, file.Size);
                throw new CorruptBlobException($"{file.Path} arrived with {hash.Name} {Short(actual)} instead of {Short(expected)}; its bytes were damaged on the way and it is downloaded again");
            }
        }

        try
        {
            File.Move(incomplete, cache.BlobPath(file.Etag), overwrite: false);
        }
        catch (IOException) when (File.Exists(cache.BlobPath(file.Etag)) && new FileInfo(cache.BlobPath(file.Etag)).Length == file.Size)
        {
            // The same content arrived under another name first; this copy is not needed.
            File.Delete(incomplete);
        }
    }

    private async Task<long> StreamAsync(DownloadPlan plan, PlannedFile file, SafeFileHandle handle, string incomplete, long have, ContentHash hash, DownloadProgress progress, Attempt attempt, CancellationToken cancellationToken)
    {
        // A fresh resolve each time: the CDN link is signed and may have expired since the last attempt.
        await using var response = await _hub.OpenFileAsync(plan.RepoId, file.Path, plan.Commit, from: have, cancellationToken: cancellationToken).ConfigureAwait(false);
        if (have > 0 && !response.IsPartial)
        {
            LogRangeIgnored(_logger, file.Path, have);
            progress.Discarded(file.Path, have);
            PartialBlobFile.Truncate(handle, incomplete);
            hash.Restart();
            have = 0;
        }
        else if (response.IsPartial && response.Offset != have)
        {
            throw new IOException($"asked for {file.Path} from byte {have} but got bytes from {response.Offset}");
        }

        if (response.TotalLength is { } total && total != file.Size)
        {
            throw new DownloadFailedException($"{file.Path} of {plan.RepoId} is {total} bytes on the server but {file.Size} in the file list of commit {Short(plan.Commit)}.");
        }

        var content = response.Content;
        using var stall = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var writer = new HashingBlobWriter(handle, incomplete, hash, have);
        var buffer = ArrayPool<byte>.Shared.Rent(ChunkBytes);
        try
        {
            while (have < file.Size)
            {
                stall.CancelAfter(_options.StallTimeout);
                int read;
                try
                {
                    read = await content.ReadAsync(buffer.AsMemory(0, (int)Math.Min(ChunkBytes, file.Size - have)), stall.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    throw new TimeoutException($"no data for {_options.StallTimeout.TotalSeconds:0} s");
                }

                if (read == 0)
                {
                    throw new IOException($"the connection ended after {have} of {file.Size} bytes");
                }

                // Hashed and on disk before the next read: a transfer that breaks keeps every byte that arrived, and
                // only those count (a resume starts after them).
                writer.Append(buffer.AsSpan(0, read));
                have += read;
                attempt.ReceivedBytes += read;
                progress.Received(file.Path, read);
            }

            if (await content.ReadAsync(buffer.AsMemory(0, 1), cancellationToken).ConfigureAwait(false) != 0)
            {
                throw new IOException($"the server sent more than the {file.Size} bytes of {file.Path}");
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        return have;
    }

    /// <summary>
    /// What this class retries itself: a transfer broken after its headers (a cut, a stall, bytes that fail the hash,
    /// a signed link refused by the CDN), resumed from the verified bytes. Request failures (429, 5xx, refused
    /// connections, timeouts before the headers) were already retried by the Hub client's pipeline: retrying them
    /// again here would multiply the attempts, so they fail the download.
    /// </summary>
    private static bool IsRetryable(Exception exception, CancellationToken cancellationToken) => exception switch
    {
        _ when cancellationToken.IsCancellationRequested => false,
        DownloadFailedException => false,
        HubException hub => hub.Kind is HubErrorKind.BadResponse,
        CorruptBlobException or TimeoutException or IOException or HttpRequestException => true,
        OperationCanceledException => true,
        _ => false,
    };

    private static string Describe(Exception exception) => exception switch
    {
        HubException or CorruptBlobException or DownloadFailedException => exception.Message,
        TimeoutException => $"the transfer stalled ({exception.Message})",
        HttpRequestException or IOException => $"connection problem ({exception.Message})",
        OperationCanceledException => "the request timed out",
        _ => exception.Message,
    };

    private TimeSpan BackOff(int failures)
    {
        var exponential = _options.RetryBaseDelay.TotalMilliseconds * Math.Pow(2, Math.Max(0, failures - 1));
        var capped = Math.Min(exponential, _options.RetryMaxDelay.TotalMilliseconds);
        return TimeSpan.FromMilliseconds(capped * (0.5 + (Random.Shared.NextDouble() * 0.5)));
    }

    private int ChunkBytes => Math.Max(4096, _options.BufferBytes);

    private static string Short(string text) => text.Length > 12 ? text[..12] : text;

    private sealed class Attempt
    {
        public long ReceivedBytes { get; set; }
    }

    /// <summary>The bytes of a file did not hash to its ETag.</summary>
    private sealed class CorruptBlobException(string message) : Exception(message);

    [LoggerMessage(Level = LogLevel.Information, Message = "Download of {RepoId}@{Commit}: {Files} files, {Bytes} bytes")]
    private static partial void LogPlanned(ILogger logger, string repoId, string commit, int files, long bytes);

    [LoggerMessage(Level = LogLevel.Information, Message = "Downloaded {RepoId}@{Commit} ({Bytes} bytes over the network in this run)")]
    private static partial void LogCompleted(ILogger logger, string repoId, string commit, long bytes);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Symbolic links are not possible in {HubCache} ({Problem}); snapshots get copies of the blobs, as huggingface_hub does there")]
    private static partial void LogNoSymlinks(ILogger logger, string hubCache, string problem);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Free disk space under {Folder} is unknown; downloading without the space check")]
    private static partial void LogSpaceUnknown(ILogger logger, Exception exception, string folder);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Path}: waiting for {LockPath}, held by another program writing the same file")]
    private static partial void LogWaitingForLock(ILogger logger, string path, string lockPath);

    [LoggerMessage(Level = LogLevel.Information, Message = "{RepoId}/{Path}: attempt failed {Failures} time(s) in a row ({Reason}); retrying in {DelayMs:0} ms")]
    private static partial void LogRetry(ILogger logger, string repoId, string path, int failures, string reason, double delayMs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Path}: asked to resume from byte {Have} but the server sent the whole file; starting it over")]
    private static partial void LogRangeIgnored(ILogger logger, string path, long have);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Path}: the partial file has {Have} bytes, more than the {Size} expected; starting it over")]
    private static partial void LogTooLong(ILogger logger, string path, long have, long size);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not give back the disk reserved past the end of {Path}; it is freed when the download resumes or is removed")]
    private static partial void LogReservationKept(ILogger logger, Exception exception, string path);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Kept {Path}: another program holds its lock")]
    private static partial void LogPartialBusy(ILogger logger, string path);

    [LoggerMessage(Level = LogLevel.Information, Message = "Removed the partial download of {RepoId} ({Bytes} bytes)")]
    private static partial void LogRemovedPartials(ILogger logger, string repoId, long bytes);
}

/// <summary>What is already on disk for a plan.</summary>
/// <param name="CompletedBytes">Bytes of files whose blob is complete.</param>
/// <param name="PartialBytes">Bytes in <c>.incomplete</c> files.</param>
/// <param name="Finished">ETags whose blob is complete.</param>
public sealed record DownloadInventory(long CompletedBytes, long PartialBytes, IReadOnlySet<string> Finished);
