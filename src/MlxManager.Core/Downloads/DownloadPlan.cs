using System.Text.Json;
using MlxManager.Core.Hub;

namespace MlxManager.Core.Downloads;

/// <summary>One file to fetch: its path in the repository, size and the ETag the cache names its blob by.</summary>
/// <param name="Etag">sha256 for LFS files, the git blob sha1 otherwise (what the Hub's ETag says).</param>
/// <param name="IsLfs">Stored through LFS (on the CDN); its sha256 is checked while streaming.</param>
public sealed record PlannedFile(string Path, long Size, string Etag, bool IsLfs);

/// <summary>What a download fetches: every file of one commit.</summary>
public sealed record DownloadPlan(string RepoId, string Revision, string Commit, IReadOnlyList<PlannedFile> Files)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public long TotalBytes => Files.Sum(f => f.Size);

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public static DownloadPlan? FromJson(string? json)
    {
        if (string.IsNullOrWhiteSpace(json))
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize<DownloadPlan>(json, Json);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>The files of a tree listing (directories left out). Entries without an ETag are refused: the cache could not name them.</summary>
    public static DownloadPlan FromTree(string repoId, string revision, string commit, IEnumerable<HubTreeEntry> tree)
    {
        var files = new List<PlannedFile>();
        foreach (var entry in tree.Where(e => !e.IsDirectory))
        {
            var etag = entry.Etag;
            if (string.IsNullOrWhiteSpace(etag) || !etag.All(char.IsAsciiHexDigit))
            {
                throw new DownloadFailedException($"The Hub listed {entry.Path} of {repoId} without a usable object id; the file cannot be placed in the cache.");
            }

            files.Add(new PlannedFile(entry.Path.Trim('/'), entry.Size, etag.ToLowerInvariant(), entry.LfsSha256 is not null));
        }

        return new DownloadPlan(repoId, revision, commit, files);
    }
}

/// <summary>A download that cannot go on; the message is shown to the user as it is.</summary>
public sealed class DownloadFailedException(string message, Exception? inner = null) : Exception(message, inner);
