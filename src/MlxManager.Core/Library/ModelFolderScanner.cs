using System.Globalization;
using System.Text;
using System.Text.Json;
using MlxManager.Core.Discovery;

namespace MlxManager.Core.Library;

/// <summary>Reads one model folder from disk: revision, files, completeness, sizes. No caching here.</summary>
internal static class ModelFolderScanner
{
    private const string IncompleteSuffix = ".incomplete";

    /// <summary>
    /// A cheap fingerprint of a cache repo: modification times of the folders that change when files are added,
    /// renamed or removed (repo, blobs, refs, snapshots, and the snapshot in use) and of refs/main. Six stat
    /// calls, no directory listing. Appending to a file does not change it; renaming a finished download into
    /// place, linking a snapshot file or moving refs/main does.
    /// </summary>
    /// <param name="currentSnapshot">The snapshot folder name found by the previous scan, if any.</param>
    public static string HubRepoStamp(string repoFolder, string? currentSnapshot)
    {
        var stamp = new StringBuilder(160);
        Append(stamp, repoFolder);
        Append(stamp, Path.Combine(repoFolder, "blobs"));
        Append(stamp, Path.Combine(repoFolder, "refs"));
        var main = new FileInfo(Path.Combine(repoFolder, "refs", "main"));
        stamp.Append(main.Exists ? $"{main.LastWriteTimeUtc.Ticks}:{main.Length}" : "-").Append('|');
        Append(stamp, Path.Combine(repoFolder, "snapshots"));
        if (currentSnapshot is not null)
        {
            Append(stamp, Path.Combine(repoFolder, "snapshots", currentSnapshot));
        }

        return stamp.ToString();
    }

    /// <summary>Fingerprint of a plain model folder: the folder, its direct subfolders and config.json.</summary>
    public static string PlainFolderStamp(string folder)
    {
        var stamp = new StringBuilder();
        Append(stamp, folder);
        foreach (var sub in Directory.EnumerateDirectories(folder).Order(StringComparer.Ordinal))
        {
            Append(stamp, sub);
        }

        var config = new FileInfo(Path.Combine(folder, ModelConfigFile));
        stamp.Append(config.Exists ? $"{config.LastWriteTimeUtc.Ticks}:{config.Length}" : "-");
        return stamp.ToString();
    }

    private const string ModelConfigFile = "config.json";

    public static LocalModel ScanHubRepo(string repoFolder, string repoId, LibrarySourceKind kind, IRepoManifestStore manifests, List<string> problems)
    {
        var blobs = BlobUsage(Path.Combine(repoFolder, "blobs"));
        var lastModified = Max(blobs.LastModified, Directory.GetLastWriteTimeUtc(repoFolder));
        var refs = ReadRefs(Path.Combine(repoFolder, "refs"), out var mainCommit, ref lastModified);

        var snapshotsFolder = Path.Combine(repoFolder, "snapshots");
        var snapshots = Directory.Exists(snapshotsFolder)
            ? Directory.EnumerateDirectories(snapshotsFolder).Select(d => new DirectoryInfo(d)).ToList()
            : [];
        long copiedBytes = 0;
        foreach (var snapshot in snapshots)
        {
            copiedBytes += CopiedFileBytes(snapshot.FullName);
        }

        string? revision = null;
        string? revisionSource = null;
        DirectoryInfo? current = null;
        ModelCompleteness? state = null;
        string? why = null;
        if (mainCommit is not null)
        {
            revision = mainCommit;
            revisionSource = "refs/main";
            current = snapshots.FirstOrDefault(s => s.Name == mainCommit);
            if (current is null)
            {
                (state, why) = (ModelCompleteness.Incomplete, $"refs/main points to {Short(mainCommit)} but snapshots/{Short(mainCommit)} does not exist");
            }
        }
        else if (snapshots.Count == 1)
        {
            current = snapshots[0];
            (revision, revisionSource) = (current.Name, "the only snapshot (no refs/main)");
        }
        else if (snapshots.Count > 1)
        {
            current = snapshots.OrderByDescending(s => s.LastWriteTimeUtc).First();
            (revision, revisionSource) = (current.Name, $"the newest of {snapshots.Count} snapshots (no refs/main)");
        }
        else
        {
            (state, why) = (ModelCompleteness.Incomplete, "no snapshot yet");
        }

        var files = current is null ? [] : SnapshotFiles(current.FullName, ref lastModified);
        if (state is null)
        {
            var manifest = revision is null ? null : FindManifest(manifests, repoId, revision, problems);
            (state, why) = manifest is not null
                ? JudgeByManifest(files, manifest)
                : JudgeForeign(current!.FullName, files);
        }

        var completeness = state.Value;
        if (completeness != ModelCompleteness.Complete && blobs.PartialCount > 0)
        {
            completeness = ModelCompleteness.PartialDownload;
            why += $"; {blobs.PartialCount} partial blob{(blobs.PartialCount == 1 ? string.Empty : "s")} ({ModelFormat.Bytes(blobs.PartialBytes)}) in blobs/: a download is running or was interrupted";
        }

        return new LocalModel(
            repoId,
            kind,
            kind != LibrarySourceKind.HubCache,
            repoFolder,
            current?.FullName,
            revision,
            revisionSource,
            refs,
            snapshots.Count,
            completeness,
            why!,
            blobs.Bytes + blobs.PartialBytes + copiedBytes,
            SnapshotBytes(files),
            blobs.PartialBytes,
            files.Count,
            new DateTimeOffset(lastModified, TimeSpan.Zero));
    }

    public static LocalModel ScanPlainFolder(string folder, string displayId)
    {
        var lastModified = Directory.GetLastWriteTimeUtc(folder);
        var files = SnapshotFiles(folder, ref lastModified);
        var (completeness, why) = JudgeForeign(folder, files);
        var bytes = SnapshotBytes(files);
        return new LocalModel(displayId, LibrarySourceKind.ExtraFolder, true, folder, folder, null, null, [], 1, completeness, why,
            bytes, bytes, 0, files.Count, new DateTimeOffset(lastModified, TimeSpan.Zero));
    }

    internal sealed record SnapshotFile(string Path, bool IsLink, long? Size, string? Target);

    private static List<SnapshotFile> SnapshotFiles(string folder, ref DateTime lastModified)
    {
        var files = new List<SnapshotFile>();
        var options = new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true, AttributesToSkip = 0 };
        foreach (var path in Directory.EnumerateFiles(folder, "*", options))
        {
            var info = new FileInfo(path);
            var relative = Path.GetRelativePath(folder, path).Replace(Path.DirectorySeparatorChar, '/');
            var isLink = info.LinkTarget is not null;
            var target = isLink ? info.ResolveLinkTarget(returnFinalTarget: true)?.FullName : info.FullName;
            files.Add(new SnapshotFile(relative, isLink, FolderModelFileSource.ResolvedLength(info), target));
            lastModified = Max(lastModified, info.LastWriteTimeUtc);
        }

        return files;
    }

    // Each distinct target once: two names linking one blob occupy its bytes once.
    private static long SnapshotBytes(List<SnapshotFile> files) =>
        files.Where(f => f.Size is not null).DistinctBy(f => f.Target ?? f.Path).Sum(f => f.Size!.Value);

    private static (ModelCompleteness, string) JudgeByManifest(List<SnapshotFile> files, RepoManifest manifest)
    {
        var present = files.ToDictionary(f => f.Path, f => f.Size, StringComparer.Ordinal);
        var wrong = manifest.Files
            .Where(f => !present.TryGetValue(f.Path, out var size) || size != f.Size)
            .Select(f => present.TryGetValue(f.Path, out var size) && size is not null ? $"{f.Path} ({size} of {f.Size} bytes)" : f.Path)
            .ToList();
        if (wrong.Count == 0)
        {
            return (ModelCompleteness.Complete, $"all {manifest.Files.Count} files of commit {Short(manifest.Commit)} present at their recorded sizes");
        }

        return (ModelCompleteness.Incomplete, $"{wrong.Count} of {manifest.Files.Count} files of commit {Short(manifest.Commit)} missing or of the wrong size: {List(wrong)}");
    }

    // Without the commit's tree: config.json parses, the weights the index names (or every *.safetensors when
    // there is no index) are present, and each safetensors file is exactly as long as its header says.
    private static (ModelCompleteness, string) JudgeForeign(string folder, List<SnapshotFile> files)
    {
        var dangling = files.Where(f => f.Size is null).Select(f => f.Path).ToList();
        if (dangling.Count > 0)
        {
            return (ModelCompleteness.Incomplete, $"{dangling.Count} file{(dangling.Count == 1 ? " links" : "s link")} to a missing blob: {List(dangling)}");
        }

        var byPath = files.ToDictionary(f => f.Path, StringComparer.Ordinal);
        if (!byPath.ContainsKey(ModelConfigFile))
        {
            return (ModelCompleteness.Incomplete, "no config.json");
        }

        if (ReadJsonObject(Path.Combine(folder, ModelConfigFile)) is { } configError)
        {
            return (ModelCompleteness.Incomplete, $"config.json is not usable ({configError})");
        }

        List<string> weights;
        string weightsOrigin;
        const string Index = "model.safetensors.index.json";
        if (byPath.ContainsKey(Index))
        {
            var (names, error) = IndexWeightFiles(Path.Combine(folder, Index));
            if (error is not null)
            {
                return (ModelCompleteness.Incomplete, $"{Index} is not usable ({error})");
            }

            weights = names!;
            weightsOrigin = $"{Index} names";
        }
        else
        {
            weights = files.Select(f => f.Path).Where(p => p.EndsWith(".safetensors", StringComparison.Ordinal)).ToList();
            weightsOrigin = "the folder has";
        }

        if (weights.Count == 0)
        {
            return (ModelCompleteness.Incomplete, "no *.safetensors weights");
        }

        var missing = weights.Where(w => !byPath.ContainsKey(w)).ToList();
        if (missing.Count > 0)
        {
            return (ModelCompleteness.Incomplete, $"{missing.Count} of {weights.Count} weight files {weightsOrigin} are missing: {List(missing)}");
        }

        var implausible = new List<string>();
        foreach (var weight in weights)
        {
            if (CheckSafetensorsSize(Path.Combine(folder, weight), byPath[weight].Size!.Value) is { } problem)
            {
                implausible.Add($"{weight} ({problem})");
            }
        }

        if (implausible.Count > 0)
        {
            return (ModelCompleteness.Incomplete, $"weight files are truncated or damaged: {List(implausible)}");
        }

        return (ModelCompleteness.Complete, $"config.json and all {weights.Count} weight file{(weights.Count == 1 ? string.Empty : "s")} {weightsOrigin} present, each as long as its safetensors header says (no recorded file list)");
    }

    private static string? CheckSafetensorsSize(string path, long size)
    {
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            Span<byte> first = stackalloc byte[8];
            if (stream.ReadAtLeast(first, 8, throwOnEndOfStream: false) < 8 || SafetensorsHeader.ReadHeaderLength(first) is not { } length
                || length is <= 1 or > SafetensorsHeader.MaxHeaderLength || 8 + length > size)
            {
                return $"{size} bytes, no valid header";
            }

            var buffer = new byte[8 + length];
            first.CopyTo(buffer);
            stream.ReadExactly(buffer, 8, (int)length);
            var header = SafetensorsHeader.Parse(buffer);
            return header.ExpectedFileSize == size ? null : $"{size} of {header.ExpectedFileSize} bytes";
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or FormatException)
        {
            return exception.Message;
        }
    }

    private static string? ReadJsonObject(string path)
    {
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllText(path));
            return document.RootElement.ValueKind == JsonValueKind.Object ? null : "not a JSON object";
        }
        catch (Exception exception) when (exception is JsonException or IOException or UnauthorizedAccessException)
        {
            return exception.Message;
        }
    }

    private static (List<string>? Files, string? Error) IndexWeightFiles(string path)
    {
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllText(path));
            if (!document.RootElement.TryGetProperty("weight_map", out var map) || map.ValueKind != JsonValueKind.Object)
            {
                return (null, "no weight_map");
            }

            var names = map.EnumerateObject().Where(p => p.Value.ValueKind == JsonValueKind.String).Select(p => p.Value.GetString()!).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
            return (names, null);
        }
        catch (Exception exception) when (exception is JsonException or IOException or UnauthorizedAccessException)
        {
            return (null, exception.Message);
        }
    }

    private static RepoManifest? FindManifest(IRepoManifestStore manifests, string repoId, string commit, List<string> problems)
    {
        try
        {
            return manifests.Find(repoId, commit);
        }
        catch (Exception exception) when (exception is InvalidDataException or IOException or UnauthorizedAccessException)
        {
            problems.Add($"{repoId}: recorded file list unreadable ({exception.Message}); judged without it");
            return null;
        }
    }

    private sealed record BlobSummary(long Bytes, long PartialBytes, int PartialCount, DateTime LastModified);

    private static BlobSummary BlobUsage(string blobsFolder)
    {
        if (!Directory.Exists(blobsFolder))
        {
            return new BlobSummary(0, 0, 0, DateTime.MinValue);
        }

        long bytes = 0, partial = 0;
        var partialCount = 0;
        var lastModified = DateTime.MinValue;
        foreach (var info in new DirectoryInfo(blobsFolder).EnumerateFiles())
        {
            if (info.Name.EndsWith(IncompleteSuffix, StringComparison.Ordinal) || info.Name.Contains(IncompleteSuffix + ".", StringComparison.Ordinal))
            {
                partial += info.Length;
                partialCount++;
                continue;
            }

            bytes += info.LinkTarget is null ? info.Length : 0;
            lastModified = Max(lastModified, info.LastWriteTimeUtc);
        }

        return new BlobSummary(bytes, partial, partialCount, lastModified);
    }

    // Regular files in a snapshot are copies (where symlinks were impossible) and take their own space.
    private static long CopiedFileBytes(string snapshot)
    {
        var options = new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true, AttributesToSkip = 0 };
        return new DirectoryInfo(snapshot).EnumerateFiles("*", options).Where(f => f.LinkTarget is null).Sum(f => f.Length);
    }

    private static List<string> ReadRefs(string refsFolder, out string? main, ref DateTime lastModified)
    {
        main = null;
        var refs = new List<string>();
        if (!Directory.Exists(refsFolder))
        {
            return refs;
        }

        var options = new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true };
        foreach (var file in Directory.EnumerateFiles(refsFolder, "*", options))
        {
            var name = Path.GetRelativePath(refsFolder, file).Replace(Path.DirectorySeparatorChar, '/');
            refs.Add(name);
            if (name == "main")
            {
                var commit = File.ReadAllText(file).Trim();
                main = commit.Length > 0 ? commit : null;
                lastModified = Max(lastModified, File.GetLastWriteTimeUtc(file));
            }
        }

        refs.Sort(StringComparer.Ordinal);
        return refs;
    }

    private static void Append(StringBuilder stamp, string path)
    {
        var info = new DirectoryInfo(path);
        stamp.Append(info.Exists ? info.LastWriteTimeUtc.Ticks.ToString(CultureInfo.InvariantCulture) : "-").Append('|');
    }

    private static DateTime Max(DateTime a, DateTime b) => a > b ? a : b;

    private static string Short(string commit) => commit.Length > 12 ? commit[..12] : commit;

    private static string List(List<string> items) =>
        items.Count <= 3 ? string.Join(", ", items) : $"{string.Join(", ", items.Take(3))} and {items.Count - 3} more";
}
