using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Extensions;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Primitives;

namespace MlxManager.HubEmulator;

/// <summary>The JSON API: <c>/api/models</c> (search), <c>/api/models/{id}[/revision/{rev}]</c> (model info) and
/// <c>/api/models/{id}/tree/{rev}[/{path}]</c> (file tree), with the Hub's field names and <c>Link</c> paging.</summary>
internal static class ModelApi
{
    /// <summary>Fields a list item has without <c>expand</c>.</summary>
    static readonly string[] ListDefaults = ["_id", "id", "likes", "trendingScore", "private", "downloads", "tags", "pipeline_tag", "library_name", "createdAt", "modelId"];

    /// <summary>Extra fields <c>full=true</c> adds to a list item.</summary>
    static readonly string[] ListFull = ["author", "sha", "lastModified", "gated", "disabled", "siblings"];

    /// <summary>Fields of the model info answer without <c>expand</c>.</summary>
    static readonly string[] InfoDefaults = ["_id", "id", "private", "pipeline_tag", "library_name", "tags", "downloads", "likes", "modelId", "author", "sha", "lastModified", "gated", "disabled", "config", "spaces", "siblings", "createdAt", "safetensors", "usedStorage", "trendingScore"];

    /// <summary>What <c>expand</c> accepts (the Hub's list); anything else is a 400.</summary>
    static readonly HashSet<string> Expandable = new(StringComparer.Ordinal)
    {
        "author", "baseModels", "cardData", "childrenModelCount", "config", "createdAt", "disabled", "downloads", "downloadsAllTime",
        "evalResults", "gated", "gguf", "gitalyUid", "inference", "inferenceProviderMapping", "lastModified", "library_name", "likes",
        "mask_token", "model-index", "pipeline_tag", "private", "resourceGroup", "safetensors", "sha", "siblings", "spaces", "tags",
        "transformersInfo", "trendingScore", "usedStorage", "widgetData",
    };

    static readonly Dictionary<string, Func<HubRepo, IComparable>> Sorts = new(StringComparer.Ordinal)
    {
        ["downloads"] = r => r.Facts.Downloads,
        ["likes"] = r => r.Facts.Likes,
        ["lastModified"] = r => r.Facts.LastModified,
        ["createdAt"] = r => r.Facts.CreatedAt,
        ["trendingScore"] = r => r.Facts.TrendingScore,
        ["likes30d"] = r => r.Facts.Likes,
        ["downloadsAllTime"] = r => r.Facts.Downloads,
    };

    public static async Task SearchAsync(HttpContext context, HubSite site)
    {
        var query = context.Request.Query;
        var expand = Values(query, "expand");
        bool full = IsTrue(query["full"]), config = IsTrue(query["config"]), cardData = IsTrue(query["cardData"]);
        if (expand.Count > 0 && (full || config || cardData))
        {
            await HubErrors.BadRequestAsync(context, "expand cannot be combined with full, config or cardData");
            return;
        }
        if (expand.FirstOrDefault(e => !Expandable.Contains(e)) is { } unknownExpand)
        {
            await HubErrors.BadRequestAsync(context, $"Invalid expand value: {unknownExpand}. Allowed: {string.Join(", ", Expandable.Order(StringComparer.Ordinal))}");
            return;
        }
        string? sort = query["sort"];
        if (!string.IsNullOrEmpty(sort) && !Sorts.ContainsKey(sort))
        {
            await HubErrors.BadRequestAsync(context, $"Invalid sort parameter: {sort}");
            return;
        }
        int pageSize = site.Options.SearchPageSize;
        if (!StringValues.IsNullOrEmpty(query["limit"]))
        {
            if (!int.TryParse(query["limit"], NumberStyles.Integer, CultureInfo.InvariantCulture, out pageSize) || pageSize < 1)
            {
                await HubErrors.BadRequestAsync(context, $"Invalid limit: {query["limit"]}");
                return;
            }
        }
        pageSize = Math.Min(pageSize, site.Options.MaxSearchLimit);
        if (!TryReadCursor(query["cursor"], out int offset))
        {
            await HubErrors.BadRequestAsync(context, "Invalid cursor");
            return;
        }

        var caller = site.Identify(context);
        IEnumerable<HubRepo> repos = site.Catalog.All().Where(r => !r.Private || caller == Caller.Granted);
        foreach (var term in Values(query, "search"))
            repos = repos.Where(r => r.Id.Contains(term, StringComparison.OrdinalIgnoreCase));
        if (query["author"].ToString() is { Length: > 0 } author)
            repos = repos.Where(r => r.Org.Equals(author, StringComparison.OrdinalIgnoreCase));
        foreach (var filter in Values(query, "filter"))
            repos = repos.Where(r => HasTag(r, filter));
        if (query["pipeline_tag"].ToString() is { Length: > 0 } pipelineTag)
            repos = repos.Where(r => string.Equals(r.Facts.PipelineTag, pipelineTag, StringComparison.Ordinal));
        if (query["gated"].ToString() is { Length: > 0 } gated)
            repos = repos.Where(r => IsGated(r) == IsTrue(gated));

        // Always descending, as the Hub; ties (and no sort) fall back to trending, then id, for a stable order.
        var key = Sorts.GetValueOrDefault(sort ?? "trendingScore") ?? Sorts["trendingScore"];
        var ordered = repos.OrderByDescending(key).ThenBy(r => r.Id, StringComparer.Ordinal).ToList();

        var page = ordered.Skip(offset).Take(pageSize).ToList();
        var fields = expand.Count > 0
            ? ["_id", "id", .. expand.Distinct(StringComparer.Ordinal)]
            : ListDefaults.Concat(full ? ListFull : []).Concat(config ? ["config"] : []).Concat(cardData ? ["cardData"] : []).ToList();
        var items = new JsonArray();
        foreach (var repo in page) items.Add(Render(repo, fields, blobs: false));

        if (offset + page.Count < ordered.Count)
            context.Response.Headers.Link = $"<{NextUrl(context, offset + page.Count)}>; rel=\"next\"";
        await WriteNodeAsync(context, items);
    }

    public static async Task InfoAsync(HttpContext context, HubSite site, string org, string name, string? revision)
    {
        var repo = await RepoAccess.FindAsync(context, site, org, name);
        if (repo is null) return;
        if (revision is not null && !repo.HasRevision(revision))
        {
            await HubErrors.RevisionNotFoundAsync(context, revision);
            return;
        }
        var expand = Values(context.Request.Query, "expand");
        if (expand.FirstOrDefault(e => !Expandable.Contains(e)) is { } unknownExpand)
        {
            await HubErrors.BadRequestAsync(context, $"Invalid expand value: {unknownExpand}");
            return;
        }
        var fields = expand.Count > 0 ? ["_id", "id", .. expand.Distinct(StringComparer.Ordinal)] : InfoDefaults.ToList();
        await WriteNodeAsync(context, Render(repo, fields, blobs: IsTrue(context.Request.Query["blobs"])));
    }

    public static async Task TreeAsync(HttpContext context, HubSite site, string org, string name, string revision, string? path)
    {
        var repo = await RepoAccess.FindAsync(context, site, org, name);
        if (repo is null) return;
        if (!repo.HasRevision(revision))
        {
            await HubErrors.RevisionNotFoundAsync(context, revision);
            return;
        }
        if (!TryReadCursor(context.Request.Query["cursor"], out int offset))
        {
            await HubErrors.BadRequestAsync(context, "Invalid cursor");
            return;
        }
        bool recursive = IsTrue(context.Request.Query["recursive"]);
        var folder = (path ?? "").Trim('/');
        var prefix = folder.Length == 0 ? "" : folder + "/";
        var under = repo.Files.Where(f => f.Path.StartsWith(prefix, StringComparison.Ordinal)).ToList();
        if (under.Count == 0)
        {
            context.Response.Headers["X-Repo-Commit"] = repo.Identity.Commit;
            await HubErrors.WriteAsync(context, StatusCodes.Status404NotFound, HubErrors.EntryNotFound, $"{folder} does not exist on \"{revision}\"");
            return;
        }

        var directories = new SortedSet<string>(StringComparer.Ordinal);
        var files = new List<RepoFileEntry>();
        foreach (var file in under)
        {
            var rest = file.Path[prefix.Length..];
            var parts = rest.Split('/');
            for (int i = 1; i < parts.Length && (recursive || i == 1); i++)
                directories.Add(prefix + string.Join('/', parts[..i]));
            if (recursive || parts.Length == 1) files.Add(file);
        }

        bool expand = IsTrue(context.Request.Query["expand"]);
        var entries = new List<(string Path, JsonObject Node)>();
        foreach (var dir in directories) entries.Add((dir, DirectoryEntry(repo, dir, expand)));
        foreach (var file in files) entries.Add((file.Path, FileEntry(repo, file, expand)));
        // Directories before files at each level, then by name, as a git tree lists them.
        var ordered = recursive ? entries.OrderBy(e => e.Path, StringComparer.Ordinal).ToList() : entries;

        var pageSize = Math.Max(1, site.Options.TreePageSize);
        var page = ordered.Skip(offset).Take(pageSize).ToList();
        if (offset + page.Count < ordered.Count)
            context.Response.Headers.Link = $"<{NextUrl(context, offset + page.Count)}>; rel=\"next\"";
        var array = new JsonArray();
        foreach (var (_, node) in page) array.Add(node);
        await WriteNodeAsync(context, array);
    }

    /// <summary><c>POST /api/models/{id}/paths-info/{rev}</c> with <c>paths</c> (JSON body or form, repeatable) and
    /// <c>expand</c>: the tree entries of the paths that exist; missing paths are left out, as the Hub does.</summary>
    public static async Task PathsInfoAsync(HttpContext context, HubSite site, string org, string name, string revision)
    {
        var repo = await RepoAccess.FindAsync(context, site, org, name);
        if (repo is null) return;
        if (!repo.HasRevision(revision))
        {
            await HubErrors.RevisionNotFoundAsync(context, revision);
            return;
        }
        List<string> paths;
        bool expand;
        try
        {
            (paths, expand) = await ReadPathsRequestAsync(context.Request);
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or InvalidDataException or InvalidOperationException)
        {
            await HubErrors.BadRequestAsync(context, $"Invalid paths-info request: {e.Message}");
            return;
        }
        var array = new JsonArray();
        foreach (var path in paths.Select(p => p.Trim('/')).Distinct(StringComparer.Ordinal))
        {
            if (repo.File(path) is { } file) array.Add(FileEntry(repo, file, expand));
            else if (path.Length > 0 && repo.Files.Any(f => f.Path.StartsWith(path + "/", StringComparison.Ordinal))) array.Add(DirectoryEntry(repo, path, expand));
        }
        await WriteNodeAsync(context, array);
    }

    static async Task<(List<string> Paths, bool Expand)> ReadPathsRequestAsync(HttpRequest request)
    {
        if (request.HasFormContentType)
        {
            var form = await request.ReadFormAsync(request.HttpContext.RequestAborted);
            return (Values(form, "paths"), IsTrue(form["expand"]));
        }
        var body = await JsonNode.ParseAsync(request.Body, cancellationToken: request.HttpContext.RequestAborted) as JsonObject
            ?? throw new InvalidDataException("expected a JSON object");
        var paths = body["paths"] switch
        {
            JsonArray list => list.Select(p => p?.GetValue<string>() ?? "").ToList(),
            JsonValue single => [single.GetValue<string>()],
            _ => [],
        };
        bool expand = body["expand"] is JsonValue e && (e.TryGetValue(out bool b) ? b : IsTrue(e.ToString()));
        return (paths, expand);
    }

    static JsonObject FileEntry(HubRepo repo, RepoFileEntry file, bool expand)
    {
        var id = repo.Identity.Files[file.Path];
        var node = new JsonObject { ["type"] = "file", ["oid"] = id.BlobId, ["size"] = file.Size, ["path"] = file.Path };
        if (file.IsLfs) node["lfs"] = new JsonObject { ["oid"] = id.Etag, ["size"] = file.Size, ["pointerSize"] = id.PointerSize };
        if (expand)
        {
            node["lastCommit"] = LastCommit(repo);
            node["securityFileStatus"] = new JsonObject { ["status"] = "safe" };
        }
        return node;
    }

    static JsonObject DirectoryEntry(HubRepo repo, string directory, bool expand)
    {
        var node = new JsonObject { ["type"] = "directory", ["oid"] = TreeOid(repo, directory), ["size"] = 0, ["path"] = directory };
        if (expand) node["lastCommit"] = LastCommit(repo);
        return node;
    }

    /// <summary>The repo has one commit, so it is every entry's last commit.</summary>
    static JsonObject LastCommit(HubRepo repo) => new()
    {
        ["id"] = repo.Identity.Commit,
        ["title"] = "Upload folder using huggingface_hub",
        ["date"] = Iso(repo.Facts.LastModified),
    };

    static JsonObject Render(HubRepo repo, IEnumerable<string> fields, bool blobs)
    {
        var node = new JsonObject();
        // A field the repo has no value for (no pipeline tag, no safetensors, …) is left out, as the Hub does.
        foreach (var field in fields)
            if (Field(repo, field, blobs) is { } value) node[field] = value;
        return node;
    }

    static JsonNode? Field(HubRepo repo, string field, bool blobs) => field switch
    {
        "_id" => repo.ObjectId,
        "id" or "modelId" => repo.Id,
        "author" => repo.Org,
        "likes" => repo.Facts.Likes,
        "downloads" => repo.Facts.Downloads,
        // The sidecar has one (30-day) figure; all-time downloads can only be larger.
        "downloadsAllTime" => repo.Facts.Downloads * 4,
        "trendingScore" => repo.Facts.TrendingScore,
        "private" => repo.Private,
        "disabled" => false,
        "gated" => IsGated(repo) ? (JsonNode)repo.Facts.Gated : false,
        "tags" => new JsonArray([.. repo.Facts.Tags.Select(t => (JsonNode)t)]),
        "pipeline_tag" => repo.Facts.PipelineTag,
        "library_name" => repo.Facts.LibraryName,
        "createdAt" => Iso(repo.Facts.CreatedAt),
        "lastModified" => Iso(repo.Facts.LastModified),
        "sha" => repo.Identity.Commit,
        "siblings" => Siblings(repo, blobs),
        "spaces" => new JsonArray(),
        "usedStorage" => repo.UsedStorage,
        "safetensors" => repo.Safetensors is { } st
            ? new JsonObject
            {
                ["parameters"] = new JsonObject(st.Parameters.Select(p => KeyValuePair.Create(p.Key, (JsonNode?)p.Value))),
                ["total"] = st.Total,
            }
            : null,
        "config" => repo.Config?.DeepClone(),
        "cardData" => CardData(repo),
        _ => null,
    };

    static JsonArray Siblings(HubRepo repo, bool blobs)
    {
        var array = new JsonArray();
        foreach (var file in repo.Files)
        {
            var sibling = new JsonObject { ["rfilename"] = file.Path };
            if (blobs)
            {
                var id = repo.Identity.Files[file.Path];
                sibling["blobId"] = id.BlobId;
                sibling["size"] = file.Size;
                if (file.IsLfs) sibling["lfs"] = new JsonObject { ["sha256"] = id.Etag, ["size"] = file.Size, ["pointerSize"] = id.PointerSize };
            }
            array.Add(sibling);
        }
        return array;
    }

    static JsonObject CardData(HubRepo repo)
    {
        var card = new JsonObject();
        if (repo.Facts.LibraryName is { } library) card["library_name"] = library;
        if (repo.Facts.PipelineTag is { } pipeline) card["pipeline_tag"] = pipeline;
        card["tags"] = new JsonArray([.. repo.Facts.Tags.Select(t => (JsonNode)t)]);
        return card;
    }

    static bool IsGated(HubRepo repo) => repo.Facts.Gated is "auto" or "manual";

    static bool HasTag(HubRepo repo, string filter) =>
        repo.Facts.Tags.Contains(filter, StringComparer.OrdinalIgnoreCase)
        || string.Equals(repo.Facts.LibraryName, filter, StringComparison.OrdinalIgnoreCase)
        || string.Equals(repo.Facts.PipelineTag, filter, StringComparison.OrdinalIgnoreCase);

    static string TreeOid(HubRepo repo, string directory)
    {
        var text = new StringBuilder();
        foreach (var file in repo.Files.Where(f => f.Path.StartsWith(directory + "/", StringComparison.Ordinal)))
            text.Append(file.Path).Append('\0').Append(repo.Identity.Files[file.Path].BlobId).Append('\n');
        return Convert.ToHexStringLower(SHA1.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }

    static string Iso(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    /// <summary>Every value of a repeatable parameter, written <c>key=a&amp;key=b</c> or <c>key[]=a&amp;key[]=b</c>.</summary>
    static List<string> Values(IEnumerable<KeyValuePair<string, StringValues>> parameters, string key) =>
        parameters.Where(p => p.Key == key || p.Key == key + "[]").SelectMany(p => p.Value).Where(v => !string.IsNullOrEmpty(v)).Select(v => v!).ToList();

    static bool IsTrue(StringValues value) => value.ToString() is "1" or "true" or "True" or "TRUE";

    static bool TryReadCursor(StringValues cursor, out int offset)
    {
        offset = 0;
        if (StringValues.IsNullOrEmpty(cursor)) return true;
        try
        {
            var text = Encoding.UTF8.GetString(WebEncoders.Base64UrlDecode(cursor.ToString()));
            return text.StartsWith("skip:", StringComparison.Ordinal)
                && int.TryParse(text.AsSpan(5), NumberStyles.None, CultureInfo.InvariantCulture, out offset);
        }
        catch (FormatException)
        {
            return false;
        }
    }

    /// <summary>The absolute URL of the next page: the same query with a new opaque cursor.</summary>
    static string NextUrl(HttpContext context, int offset)
    {
        var cursor = WebEncoders.Base64UrlEncode(Encoding.UTF8.GetBytes($"skip:{offset}"));
        var builder = new QueryBuilder();
        foreach (var (key, values) in context.Request.Query)
            if (key != "cursor")
                foreach (var value in values) builder.Add(key, value ?? "");
        builder.Add("cursor", cursor);
        var request = context.Request;
        return $"{request.Scheme}://{request.Host}{request.PathBase}{request.Path}{builder.ToQueryString()}";
    }

    static Task WriteNodeAsync(HttpContext context, JsonNode node) =>
        HubErrors.WriteBytesAsync(context, Encoding.UTF8.GetBytes(node.ToJsonString()), "application/json; charset=utf-8");
}
