namespace MlxManager.Core.Hub;

/// <summary>Orders of the Hub search (always descending).</summary>
public enum HubSort
{
    Downloads,
    Likes,

    /// <summary><c>lastModified</c>: recently updated first.</summary>
    RecentlyUpdated,

    /// <summary><c>trendingScore</c>.</summary>
    Trending,
}

/// <summary>A model search.</summary>
/// <param name="Search">Words to find in the repo id; empty lists everything the filter allows.</param>
/// <param name="Authors">Organisations or users to search in; empty = any author. Each author is one request per page.</param>
/// <param name="Filter">Tag filter; <c>mlx</c> by default, null for none.</param>
/// <param name="Limit">Results per page (per author).</param>
public sealed record HubSearchQuery(
    string? Search = null,
    IReadOnlyList<string>? Authors = null,
    HubSort Sort = HubSort.Downloads,
    int Limit = 30,
    string? Filter = HubSearchQuery.MlxFilter)
{
    public const string MlxFilter = "mlx";

    /// <summary>Fields asked with <c>expand</c> so each tile needs no further call.</summary>
    public static IReadOnlyList<string> ExpandedFields { get; } =
        ["author", "downloads", "likes", "lastModified", "createdAt", "trendingScore", "tags", "pipeline_tag", "library_name", "gated", "private", "sha", "safetensors", "usedStorage"];
}

/// <summary>One page of search results and the opaque continuation for the next ("load more").</summary>
/// <param name="Next">Pass to <see cref="HubClient.SearchNextAsync"/>; null on the last page.</param>
public sealed record HubSearchPage(IReadOnlyList<HubModel> Models, HubSearchContinuation? Next);

/// <summary>
/// Where each author's listing continues: the <c>Link: rel="next"</c> URLs the Hub sent. Only URLs on the Hub host
/// under <c>/api/models</c> are ever followed, so a continuation handed back by a browser cannot point the server
/// elsewhere.
/// </summary>
public sealed record HubSearchContinuation(HubSort Sort, IReadOnlyList<Uri> NextPages)
{
    /// <summary>A compact, URL-safe string form (base64url of the URLs), for a query-string parameter.</summary>
    public string Encode()
    {
        var text = string.Join('\n', [Sort.ToString(), .. NextPages.Select(u => u.AbsoluteUri)]);
        return Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(text)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }

    /// <summary>Reads <see cref="Encode"/>'s output; null when it is malformed.</summary>
    public static HubSearchContinuation? Decode(string? encoded)
    {
        if (string.IsNullOrWhiteSpace(encoded) || encoded.Length > 16_384)
        {
            return null;
        }

        try
        {
            var base64 = encoded.Replace('-', '+').Replace('_', '/');
            base64 = base64.PadRight(base64.Length + ((4 - (base64.Length % 4)) % 4), '=');
            var lines = System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(base64)).Split('\n');
            if (lines.Length < 2 || !Enum.TryParse<HubSort>(lines[0], out var sort))
            {
                return null;
            }

            var uris = new List<Uri>();
            foreach (var line in lines.Skip(1))
            {
                if (!Uri.TryCreate(line, UriKind.Absolute, out var uri))
                {
                    return null;
                }

                uris.Add(uri);
            }

            return new HubSearchContinuation(sort, uris);
        }
        catch (FormatException)
        {
            return null;
        }
    }
}

/// <summary>A model repository as the Hub describes it (search result or model info).</summary>
/// <param name="Gated">null when not gated, else "auto" or "manual".</param>
/// <param name="Sha">The commit of <c>main</c> (a detection result is cached per repo@sha).</param>
/// <param name="UsedStorage">Bytes the repository takes on the Hub (every revision's LFS files).</param>
/// <param name="SafetensorsParameters">Parameter count per dtype from the Hub's safetensors metadata.</param>
/// <param name="Siblings">Files (model info only; sizes with <c>blobs=true</c>).</param>
public sealed record HubModel(
    string Id,
    string Author,
    string? Sha,
    long Downloads,
    long Likes,
    DateTimeOffset? LastModified,
    DateTimeOffset? CreatedAt,
    double TrendingScore,
    IReadOnlyList<string> Tags,
    string? PipelineTag,
    string? LibraryName,
    string? Gated,
    bool Private,
    long? UsedStorage,
    IReadOnlyDictionary<string, long>? SafetensorsParameters,
    long? SafetensorsTotal,
    IReadOnlyList<HubSibling> Siblings)
{
    public bool IsGated => Gated is not null;

    /// <summary>The part after the slash.</summary>
    public string Name => Id.Contains('/', StringComparison.Ordinal) ? Id[(Id.IndexOf('/', StringComparison.Ordinal) + 1)..] : Id;
}

/// <summary>A file of a repository from model info's <c>siblings</c>.</summary>
public sealed record HubSibling(string Path, long? Size, string? BlobId, string? LfsSha256);

/// <summary>An entry of the file tree.</summary>
/// <param name="Oid">Git object id (blob sha1 for files).</param>
/// <param name="LfsSha256">For LFS files: the sha256 of the content (its ETag).</param>
public sealed record HubTreeEntry(string Path, bool IsDirectory, long Size, string? Oid, string? LfsSha256)
{
    /// <summary>What the cache names the blob: the sha256 for LFS files, the git blob id otherwise.</summary>
    public string? Etag => LfsSha256 ?? Oid;
}

/// <summary>What <c>HEAD …/resolve/{rev}/{path}</c> says about a file.</summary>
/// <param name="Commit"><c>X-Repo-Commit</c>.</param>
/// <param name="Etag"><c>X-Linked-Etag</c>, else <c>ETag</c>, without <c>W/</c> and quotes: sha256 for LFS files, git blob sha1 otherwise.</param>
/// <param name="Size"><c>X-Linked-Size</c>, else <c>Content-Length</c>.</param>
/// <param name="Location">The CDN URL an LFS file redirects to (signed and expiring: resolve again before each resume).</param>
/// <param name="ResolvedUrl">The resolve URL after relative redirects (a renamed repository's new place).</param>
public sealed record HubFileMetadata(string? Commit, string? Etag, long? Size, Uri? Location, Uri ResolvedUrl)
{
    /// <summary>True when the Hub redirected to a CDN (LFS file).</summary>
    public bool IsLfs => Location is not null;
}

/// <summary>
/// An open (ranged) download of one file: the body stream and what the response said. A 200 to a ranged request
/// means the server sent the whole file from byte 0 (<see cref="IsPartial"/> false): start again.
/// </summary>
public sealed class HubFileResponse : IAsyncDisposable, IDisposable
{
    private readonly HttpResponseMessage _response;

    internal HubFileResponse(HttpResponseMessage response, Stream content, Uri contentUrl, string? commit, string? etag)
    {
        _response = response;
        Content = content;
        ContentUrl = contentUrl;
        Commit = commit;
        Etag = etag;
    }

    public Stream Content { get; }

    /// <summary>Where the bytes come from: the CDN for LFS files, the Hub otherwise.</summary>
    public Uri ContentUrl { get; }

    public bool IsPartial => _response.StatusCode == System.Net.HttpStatusCode.PartialContent;

    /// <summary>First byte of the body within the file (from <c>Content-Range</c>; 0 for a 200).</summary>
    public long Offset => IsPartial ? _response.Content.Headers.ContentRange?.From ?? 0 : 0;

    /// <summary>Bytes in this body.</summary>
    public long? ContentLength => _response.Content.Headers.ContentLength;

    /// <summary>The file's full size (<c>Content-Range</c> total, or the length of a 200).</summary>
    public long? TotalLength => IsPartial ? _response.Content.Headers.ContentRange?.Length : ContentLength;

    /// <summary><c>X-Repo-Commit</c> of the resolve answer.</summary>
    public string? Commit { get; }

    /// <summary>The file's ETag from the resolve answer (sha256 for LFS files).</summary>
    public string? Etag { get; }

    public void Dispose()
    {
        Content.Dispose();
        _response.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        await Content.DisposeAsync().ConfigureAwait(false);
        _response.Dispose();
    }
}
