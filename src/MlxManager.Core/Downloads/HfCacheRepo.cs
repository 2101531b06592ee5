using System.Text;
using MlxManager.Core.Library;

namespace MlxManager.Core.Downloads;

/// <summary>
/// One repository's folder in the Hugging Face cache, written exactly as huggingface_hub writes it
/// (docs/reference/hf-hub.md): <c>blobs/&lt;etag&gt;</c> (partial as <c>.incomplete</c>),
/// <c>snapshots/&lt;commit&gt;/&lt;path&gt;</c> as relative symlinks to the blobs (copies where links are impossible),
/// <c>refs/&lt;revision&gt;</c> holding the commit without a newline, and the lock files under
/// <c>$HF_HUB_CACHE/.locks/models--org--name/&lt;etag&gt;.lock</c>.
/// </summary>
public sealed class HfCacheRepo
{
    public const string IncompleteSuffix = ".incomplete";

    public HfCacheRepo(string hubCache, string repoId)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(hubCache);
        HubCache = hubCache;
        RepoId = repoId;
        Folder = Path.Combine(hubCache, HfCacheNames.ModelFolderName(repoId));
        LocksFolder = Path.Combine(hubCache, ".locks", HfCacheNames.ModelFolderName(repoId));
    }

    public string HubCache { get; }

    public string RepoId { get; }

    /// <summary><c>$HF_HUB_CACHE/models--org--name</c>.</summary>
    public string Folder { get; }

    /// <summary><c>$HF_HUB_CACHE/.locks/models--org--name</c>.</summary>
    public string LocksFolder { get; }

    public string BlobsFolder => Path.Combine(Folder, "blobs");

    public string BlobPath(string etag) => Path.Combine(BlobsFolder, CheckedEtag(etag));

    public string IncompletePath(string etag) => BlobPath(etag) + IncompleteSuffix;

    public string LockPath(string etag) => Path.Combine(LocksFolder, CheckedEtag(etag) + ".lock");

    public string SnapshotFolder(string commit) => Path.Combine(Folder, "snapshots", CheckedCommit(commit));

    /// <summary>Where a repository file appears in a snapshot; refuses paths that would leave the snapshot folder.</summary>
    public string SnapshotPath(string commit, string path)
    {
        var snapshot = SnapshotFolder(commit);
        var parts = path.Split('/');
        if (path.Length == 0 || path.StartsWith('/') || parts.Any(p => p.Length == 0 || p is "." or ".." || p.Contains('\\', StringComparison.Ordinal)))
        {
            throw new DownloadFailedException($"The Hub listed a file with an unsafe path ({path}); refusing to write it.");
        }

        return Path.Combine([snapshot, .. parts]);
    }

    public string RefPath(string revision) => Path.Combine(Folder, "refs", revision);

    /// <summary>Creates blobs/, snapshots/ and the locks folder.</summary>
    public void EnsureFolders()
    {
        Directory.CreateDirectory(BlobsFolder);
        Directory.CreateDirectory(Path.Combine(Folder, "snapshots"));
        Directory.CreateDirectory(LocksFolder);
    }

    /// <summary>
    /// True when this file system takes symbolic links (tried once in blobs/, as huggingface_hub does in the cache);
    /// false means snapshots get copies of the blobs.
    /// </summary>
    public bool SupportsSymlinks()
    {
        Directory.CreateDirectory(BlobsFolder);
        var probe = Path.Combine(BlobsFolder, $".symlink-probe-{Guid.NewGuid():N}");
        try
        {
            File.CreateSymbolicLink(probe, "target-that-need-not-exist");
            return true;
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or PlatformNotSupportedException)
        {
            SymlinkProblem = exception.Message;
            return false;
        }
        finally
        {
            File.Delete(probe);
        }
    }

    /// <summary>Why <see cref="SupportsSymlinks"/> said no, for the log.</summary>
    public string? SymlinkProblem { get; private set; }

    /// <summary>
    /// Makes <c>snapshots/&lt;commit&gt;/&lt;path&gt;</c> point at the blob: a relative link (<c>../../blobs/&lt;etag&gt;</c>, one more
    /// <c>../</c> per subfolder), or a copy when <paramref name="useSymlinks"/> is false. Written beside the final name
    /// and renamed over it, so a reader never sees a missing or half-copied file.
    /// </summary>
    public void LinkSnapshot(string commit, string path, string etag, bool useSymlinks)
    {
        var link = SnapshotPath(commit, path);
        var folder = Path.GetDirectoryName(link)!;
        Directory.CreateDirectory(folder);
        var blob = BlobPath(etag);
        var staged = Path.Combine(folder, $".{Path.GetFileName(link)}.{Guid.NewGuid():N}.tmp");
        if (useSymlinks)
        {
            var relative = Path.GetRelativePath(folder, blob).Replace(Path.DirectorySeparatorChar, '/');
            File.CreateSymbolicLink(staged, relative);
        }
        else
        {
            File.Copy(blob, staged);
        }

        File.Move(staged, link, overwrite: true);
    }

    /// <summary>True when the snapshot already shows <paramref name="path"/> as the blob (a link to it, or a copy of its size).</summary>
    public bool IsLinked(string commit, string path, string etag, long size)
    {
        var info = new FileInfo(SnapshotPath(commit, path));
        if (info.LinkTarget is { } target)
        {
            var resolved = Path.GetFullPath(target, info.DirectoryName!);
            return string.Equals(resolved, Path.GetFullPath(BlobPath(etag)), StringComparison.Ordinal) && File.Exists(resolved);
        }

        return info.Exists && info.Length == size;
    }

    /// <summary>Writes <c>refs/&lt;revision&gt;</c> = <paramref name="commit"/> (no newline), through a temporary file renamed into place.</summary>
    public void WriteRef(string revision, string commit)
    {
        CheckedCommit(commit);
        if (revision.Length == 0 || revision.Split('/').Any(p => p.Length == 0 || p is "." or ".."))
        {
            throw new ArgumentException($"\"{revision}\" is not a ref name", nameof(revision));
        }

        var path = RefPath(revision);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temporary = path + $".{Guid.NewGuid():N}.tmp";
        File.WriteAllBytes(temporary, Encoding.ASCII.GetBytes(commit));
        File.Move(temporary, path, overwrite: true);
    }

    private static string CheckedEtag(string etag) =>
        etag.Length is >= 16 and <= 128 && etag.All(char.IsAsciiHexDigit) ? etag : throw new ArgumentException($"\"{etag}\" is not an ETag the cache can name a blob by", nameof(etag));

    private static string CheckedCommit(string commit) =>
        commit.Length is >= 7 and <= 64 && commit.All(char.IsAsciiLetterOrDigit) ? commit : throw new ArgumentException($"\"{commit}\" is not a commit id", nameof(commit));
}
