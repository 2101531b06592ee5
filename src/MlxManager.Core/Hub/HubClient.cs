using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Polly.CircuitBreaker;
using Polly.Timeout;

namespace MlxManager.Core.Hub;

/// <summary>
/// Speaks the Hugging Face Hub protocol (docs/reference/hf-hub.md): search, model info, file tree, file metadata
/// and ranged file downloads. Every call resolves the <see cref="HubConnection"/> first (endpoint, token, offline
/// mode), so a token stored on the Settings page applies at once. The token goes to the Hub host only; redirects
/// are followed only when relative (renamed repositories), never to the CDN with the token. Retries, the circuit
/// breaker and per-attempt timeouts are the <see cref="HubResilience"/> pipeline's, the only layer of them; failures
/// end as a typed <see cref="HubException"/>. JSON and metadata bodies are read inside each attempt and capped
/// (<see cref="HubBodyReader"/>); download streams are handed over unread.
/// </summary>
/// <remarks>
/// Register with <see cref="HubServiceCollectionExtensions.AddHubClient"/> (or build the handler with
/// <see cref="HubResilience.CreateHandler"/>); the <see cref="HttpClient.Timeout"/> is infinite: timeouts are per
/// attempt, and a download stream must not time out as a whole.
/// </remarks>
public sealed partial class HubClient
{
    private static readonly JsonDocumentOptions JsonOptions = new() { AllowTrailingCommas = true };

    /// <summary>Largest API answer (a search page, a tree page, model info) read into memory.</summary>
    public const long MaxJsonBytes = 64 * 1024 * 1024;

    private readonly HttpClient _http;
    private readonly IHubConnectionSource _connections;
    private readonly HubClientOptions _options;
    private readonly ILogger _logger;

    /// <param name="http">A client whose handler is <see cref="HubResilience"/>'s pipeline over <see cref="HubBodyReader"/>.</param>
    public HubClient(HttpClient http, IHubConnectionSource connections, HubClientOptions? options = null, ILogger<HubClient>? logger = null)
    {
        _http = http ?? throw new ArgumentNullException(nameof(http));
        _connections = connections ?? throw new ArgumentNullException(nameof(connections));
        _options = options ?? new HubClientOptions();
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    /// <summary>Largest metadata file read (<see cref="HubClientOptions.MaxMetadataFileBytes"/>): skip bigger ones by their size in the tree.</summary>
    public long MaxMetadataFileBytes => _options.MaxMetadataFileBytes;

    /// <summary>
    /// The handler the client needs under its pipeline: no automatic redirects (only relative ones are followed, by
    /// hand), no decompression, and a body left unread (a server that ignored <c>Range</c>) dropped rather than drained.
    /// </summary>
    public static SocketsHttpHandler CreatePrimaryHandler() => new()
    {
        AllowAutoRedirect = false,
        AutomaticDecompression = DecompressionMethods.None,
        ConnectTimeout = TimeSpan.FromSeconds(15),
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        MaxResponseDrainSize = 64 * 1024,
    };

    /// <summary>The connection the next call will use.</summary>
    public ValueTask<HubConnection> GetConnectionAsync(CancellationToken cancellationToken = default) => _connections.GetAsync(cancellationToken);

    /// <summary>
    /// First page of a search: one <c>GET /api/models</c> per author (one in all when no author is given), with every
    /// field a tile shows asked through <c>expand</c>. Results of several authors are merged in the sort order.
    /// </summary>
    public async Task<HubSearchPage> SearchAsync(HubSearchQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        var connection = await OnlineConnectionAsync(cancellationToken).ConfigureAwait(false);
        var authors = query.Authors?.Where(a => !string.IsNullOrWhiteSpace(a)).Select(a => a.Trim()).Distinct(StringComparer.OrdinalIgnoreCase).ToList() ?? [];
        var urls = authors.Count == 0
            ? [SearchUrl(connection, query, null)]
            : authors.Select(author => SearchUrl(connection, query, author)).ToList();
        return await FetchSearchPagesAsync(connection, query.Sort, urls, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The page after <paramref name="continuation"/> ("load more"), following the Hub's <c>Link</c> URLs.</summary>
    public async Task<HubSearchPage> SearchNextAsync(HubSearchContinuation continuation, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(continuation);
        var connection = await OnlineConnectionAsync(cancellationToken).ConfigureAwait(false);
        foreach (var url in continuation.NextPages)
        {
            if (!connection.IsHubHost(url) || !url.AbsolutePath.StartsWith(PathBase(connection) + "api/models", StringComparison.Ordinal))
            {
                throw new HubException(HubErrorKind.BadResponse, $"Refusing to follow {url.GetLeftPart(UriPartial.Path)}: not a search page of {Display(connection)}.", connection.Endpoint);
            }
        }

        return await FetchSearchPagesAsync(connection, continuation.Sort, continuation.NextPages, cancellationToken).ConfigureAwait(false);
    }

    /// <summary><c>GET /api/models/{repo}</c> (or <c>/revision/{rev}</c>); <paramref name="blobs"/> adds file sizes to the siblings.</summary>
    public async Task<HubModel> GetModelAsync(string repoId, string? revision = null, bool blobs = false, CancellationToken cancellationToken = default)
    {
        ValidateRepoId(repoId);
        var connection = await OnlineConnectionAsync(cancellationToken).ConfigureAwait(false);
        var path = $"api/models/{RepoPath(repoId)}" + (revision is null ? string.Empty : $"/revision/{Uri.EscapeDataString(revision)}");
        var url = new Uri(connection.Endpoint, path + (blobs ? "?blobs=true" : string.Empty));
        return await SendJsonAsync(connection, url, repoId, revision, null, root => HubJson.ReadModel(root), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Every entry of the tree at <paramref name="revision"/> (recursive by default), all pages followed.</summary>
    public async Task<IReadOnlyList<HubTreeEntry>> GetTreeAsync(string repoId, string revision = "main", string? path = null, bool recursive = true, CancellationToken cancellationToken = default)
    {
        ValidateRepoId(repoId);
        var connection = await OnlineConnectionAsync(cancellationToken).ConfigureAwait(false);
        var relative = $"api/models/{RepoPath(repoId)}/tree/{Uri.EscapeDataString(revision)}"
            + (string.IsNullOrEmpty(path) ? string.Empty : "/" + FilePath(path))
            + (recursive ? "?recursive=true" : string.Empty);
        Uri? url = new(connection.Endpoint, relative);
        var entries = new List<HubTreeEntry>();
        for (var page = 0; url is not null; page++)
        {
            if (page > 10_000)
            {
                throw new HubException(HubErrorKind.BadResponse, $"The tree of {repoId} did not end after {page} pages.", connection.Endpoint, repoId: repoId);
            }

            var (items, next) = await SendJsonAsync(connection, url, repoId, revision, path, root => (HubJson.ReadTree(root), (Uri?)null), cancellationToken, withNext: true).ConfigureAwait(false);
            entries.AddRange(items);
            url = next is not null && connection.IsHubHost(next) ? next : null;
        }

        return entries;
    }

    /// <summary>
    /// <c>HEAD {endpoint}/{repo}/resolve/{rev}/{path}</c> with <c>Accept-Encoding: identity</c>: commit, ETag, size and,
    /// for LFS files, the CDN location (not followed).
    /// </summary>
    public async Task<HubFileMetadata> GetFileMetadataAsync(string repoId, string path, string revision = "main", CancellationToken cancellationToken = default)
    {
        ValidateRepoId(repoId);
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var connection = await OnlineConnectionAsync(cancellationToken).ConfigureAwait(false);
        var url = ResolveUrl(connection, repoId, revision, path);
        using var exchange = await SendAsync(connection, HttpMethod.Head, url, null, null, cancellationToken).ConfigureAwait(false);
        var response = exchange.Response;
        if (IsRedirect(response.StatusCode) && response.Headers.Location is { } location)
        {
            return ReadMetadata(response, new Uri(exchange.Url, location), exchange.Url);
        }

        await ThrowIfFailedAsync(connection, response, repoId, revision, path, cancellationToken).ConfigureAwait(false);
        return ReadMetadata(response, null, exchange.Url);
    }

    /// <summary>
    /// Opens a download of a file from byte <paramref name="from"/> (to <paramref name="to"/> inclusive when given).
    /// Resolves afresh each time (CDN URLs are signed and expire); the token goes to the Hub host only. The caller
    /// reads <see cref="HubFileResponse.Content"/> and disposes the response.
    /// </summary>
    public Task<HubFileResponse> OpenFileAsync(string repoId, string path, string revision = "main", long from = 0, long? to = null, CancellationToken cancellationToken = default) =>
        OpenAsync(repoId, path, revision, from, to, null, cancellationToken);

    private async Task<HubFileResponse> OpenAsync(string repoId, string path, string revision, long from, long? to, long? readLimit, CancellationToken cancellationToken)
    {
        ValidateRepoId(repoId);
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        ArgumentOutOfRangeException.ThrowIfNegative(from);
        var connection = await OnlineConnectionAsync(cancellationToken).ConfigureAwait(false);
        var range = from == 0 && to is null ? null : new RangeHeaderValue(from, to);
        var resolve = ResolveUrl(connection, repoId, revision, path);
        var exchange = await SendAsync(connection, HttpMethod.Get, resolve, range, readLimit, cancellationToken).ConfigureAwait(false);
        try
        {
            var response = exchange.Response;
            var commit = Header(response, "X-Repo-Commit");
            var etag = CleanEtag(Header(response, "X-Linked-Etag") ?? response.Headers.ETag?.ToString() ?? Header(response, "ETag"));
            if (IsRedirect(response.StatusCode) && response.Headers.Location is { } location)
            {
                var target = new Uri(exchange.Url, location);
                exchange.Dispose();
                exchange = await SendAsync(connection, HttpMethod.Get, target, range, readLimit, cancellationToken).ConfigureAwait(false);
                response = exchange.Response;
            }

            await ThrowIfFailedAsync(connection, response, repoId, revision, path, cancellationToken).ConfigureAwait(false);
            var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            var opened = new HubFileResponse(response, stream, exchange.Url, commit, etag);
            exchange = null;
            return opened;
        }
        finally
        {
            exchange?.Dispose();
        }
    }

    /// <summary>
    /// A metadata file's text (UTF-8), read whole; a file longer than <see cref="HubClientOptions.MaxMetadataFileBytes"/>
    /// fails with <see cref="HubErrorKind.BadResponse"/> after that many bytes.
    /// </summary>
    public async Task<string> ReadTextAsync(string repoId, string path, string revision = "main", CancellationToken cancellationToken = default)
    {
        var bytes = await ReadBytesAsync(repoId, path, revision, 0, null, _options.MaxMetadataFileBytes, cancellationToken).ConfigureAwait(false);
        return Encoding.UTF8.GetString(bytes);
    }

    /// <summary>
    /// The first <paramref name="count"/> bytes of a file (fewer when it is shorter), by a Range request; from a server
    /// that ignores <c>Range</c>, still only those bytes are read.
    /// </summary>
    public Task<byte[]> ReadPrefixAsync(string repoId, string path, int count, string revision = "main", CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        return ReadBytesAsync(repoId, path, revision, 0, count - 1L, count, cancellationToken);
    }

    private async Task<byte[]> ReadBytesAsync(string repoId, string path, string revision, long from, long? to, long readLimit, CancellationToken cancellationToken)
    {
        // The body is read inside each attempt (HubBodyReader): a connection cut mid-body is retried by the pipeline.
        await using var file = await OpenAsync(repoId, path, revision, from, to, readLimit, cancellationToken).ConfigureAwait(false);
        using var buffer = new MemoryStream();
        await file.Content.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
        return buffer.ToArray();
    }

    private async Task<HubSearchPage> FetchSearchPagesAsync(HubConnection connection, HubSort sort, IReadOnlyList<Uri> urls, CancellationToken cancellationToken)
    {
        var pages = await Task.WhenAll(urls.Select(url =>
            SendJsonAsync(connection, url, null, null, null, root => (HubJson.ReadModels(root), (Uri?)null), cancellationToken, withNext: true))).ConfigureAwait(false);
        var models = pages.SelectMany(p => p.Value)
            .DistinctBy(m => m.Id, StringComparer.Ordinal)
            .OrderByDescending(m => SortKey(m, sort))
            .ThenBy(m => m.Id, StringComparer.Ordinal)
            .ToList();
        var next = pages.Select(p => p.Next).Where(n => n is not null && connection.IsHubHost(n)).Select(n => n!).ToList();
        return new HubSearchPage(models, next.Count == 0 ? null : new HubSearchContinuation(sort, next));
    }

    private static double SortKey(HubModel model, HubSort sort) => sort switch
    {
        HubSort.Likes => model.Likes,
        HubSort.RecentlyUpdated => model.LastModified?.ToUnixTimeMilliseconds() ?? 0,
        HubSort.Trending => model.TrendingScore,
        _ => model.Downloads,
    };

    private static Uri SearchUrl(HubConnection connection, HubSearchQuery query, string? author)
    {
        var parameters = new List<(string Key, string Value)>();
        if (!string.IsNullOrWhiteSpace(query.Search))
        {
            parameters.Add(("search", query.Search.Trim()));
        }

        if (author is not null)
        {
            parameters.Add(("author", author));
        }

        if (!string.IsNullOrWhiteSpace(query.Filter))
        {
            parameters.Add(("filter", query.Filter));
        }

        parameters.Add(("sort", query.Sort switch
        {
            HubSort.Likes => "likes",
            HubSort.RecentlyUpdated => "lastModified",
            HubSort.Trending => "trendingScore",
            _ => "downloads",
        }));
        parameters.Add(("limit", Math.Clamp(query.Limit, 1, 1000).ToString(CultureInfo.InvariantCulture)));
        parameters.AddRange(HubSearchQuery.ExpandedFields.Select(field => ("expand", field)));
        var queryString = string.Join('&', parameters.Select(p => $"{Uri.EscapeDataString(p.Key)}={Uri.EscapeDataString(p.Value)}"));
        return new Uri(connection.Endpoint, "api/models?" + queryString);
    }

    private static Uri ResolveUrl(HubConnection connection, string repoId, string revision, string path) =>
        new(connection.Endpoint, $"{RepoPath(repoId)}/resolve/{Uri.EscapeDataString(revision)}/{FilePath(path)}");

    private static string PathBase(HubConnection connection) => connection.Endpoint.AbsolutePath.EndsWith('/') ? connection.Endpoint.AbsolutePath : connection.Endpoint.AbsolutePath + "/";

    private static string RepoPath(string repoId) => string.Join('/', repoId.Split('/').Select(Uri.EscapeDataString));

    private static string FilePath(string path) => string.Join('/', path.Trim('/').Split('/').Select(Uri.EscapeDataString));

    private static void ValidateRepoId(string repoId)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(repoId);
        var parts = repoId.Split('/');
        if (parts.Length != 2 || parts.Any(p => p.Length == 0 || p is "." or ".."))
        {
            throw new ArgumentException($"\"{repoId}\" is not a repository id of the form owner/name.", nameof(repoId));
        }
    }

    private async Task<HubConnection> OnlineConnectionAsync(CancellationToken cancellationToken)
    {
        var connection = await _connections.GetAsync(cancellationToken).ConfigureAwait(false);
        if (connection.Offline)
        {
            throw new HubOfflineException(connection.Endpoint);
        }

        return connection;
    }

    private async Task<T> SendJsonAsync<T>(HubConnection connection, Uri url, string? repoId, string? revision, string? path, Func<JsonElement, T> read, CancellationToken cancellationToken)
    {
        var (value, _) = await SendJsonAsync(connection, url, repoId, revision, path, root => (read(root), (Uri?)null), cancellationToken, withNext: false).ConfigureAwait(false);
        return value;
    }

    private async Task<(T Value, Uri? Next)> SendJsonAsync<T>(HubConnection connection, Uri url, string? repoId, string? revision, string? path, Func<JsonElement, (T, Uri?)> read, CancellationToken cancellationToken, bool withNext)
    {
        // The body was read inside the attempt (HubBodyReader), so a connection cut mid-body was retried there.
        using var exchange = await SendAsync(connection, HttpMethod.Get, url, null, MaxJsonBytes, cancellationToken).ConfigureAwait(false);
        var response = exchange.Response;
        await ThrowIfFailedAsync(connection, response, repoId, revision, path, cancellationToken).ConfigureAwait(false);
        var body = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        T value;
        try
        {
            using var document = JsonDocument.Parse(body, JsonOptions);
            value = read(document.RootElement).Item1;
        }
        catch (Exception exception) when (exception is JsonException or FormatException or InvalidOperationException or KeyNotFoundException)
        {
            LogBadJson(_logger, exception, url.AbsolutePath);
            throw new HubException(HubErrorKind.BadResponse, $"The Hub at {Display(connection)} answered {url.AbsolutePath} with something that is not the expected JSON ({exception.Message}).", connection.Endpoint, response.StatusCode, repoId: repoId, inner: exception);
        }

        var next = withNext ? NextLink(response, exchange.Url) : null;
        return (value, next);
    }

    /// <summary>
    /// One request through the pipeline (which retries it), following relative redirects only; returns the last
    /// response (any status). <paramref name="readLimit"/> has the body read inside the attempt, at most that many bytes.
    /// </summary>
    private async Task<Exchange> SendAsync(HubConnection connection, HttpMethod method, Uri url, RangeHeaderValue? range, long? readLimit, CancellationToken cancellationToken)
    {
        for (var redirects = 0; ; redirects++)
        {
            using var request = new HttpRequestMessage(method, url);
            request.Headers.AcceptEncoding.Add(new StringWithQualityHeaderValue("identity"));
            request.Headers.UserAgent.Add(new ProductInfoHeaderValue("MlxManager", "1.0"));
            if (range is not null)
            {
                request.Headers.Range = range;
            }

            if (readLimit is { } limit)
            {
                request.Options.Set(HubBodyReader.ReadLimit, limit);
            }

            if (connection.Token is { } token && connection.IsHubHost(url))
            {
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            }

            HttpResponseMessage response;
            try
            {
                response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception exception) when (exception is HttpRequestException or IOException or TimeoutRejectedException or BrokenCircuitException
                || (exception is OperationCanceledException && !cancellationToken.IsCancellationRequested))
            {
                throw Unreachable(connection, exception);
            }

            if (IsRedirect(response.StatusCode) && response.Headers.Location is { } location && !location.IsAbsoluteUri && redirects < _options.MaxRedirects)
            {
                // Relative: the Hub moved a renamed repository. Absolute ones (the CDN) are the caller's to decide.
                url = new Uri(url, location);
                response.Dispose();
                continue;
            }

            return new Exchange(response, url);
        }
    }

    private HubUnreachableException Unreachable(HubConnection connection, Exception exception)
    {
        LogUnreachable(_logger, exception, Display(connection), _options.MaxAttempts);
        var timedOut = exception is TimeoutRejectedException or OperationCanceledException;
        var what = exception switch
        {
            BrokenCircuitException => "failed too often just now; Hub requests pause for a few seconds",
            _ when timedOut => $"did not answer within {_options.RequestTimeout.TotalSeconds:0.#} s; tried {Times(_options.MaxAttempts)}",
            _ => $"could not be reached ({exception.Message}); tried {Times(_options.MaxAttempts)}",
        };
        return new HubUnreachableException(timedOut ? HubErrorKind.Timeout : HubErrorKind.Unreachable, $"The Hugging Face Hub at {Display(connection)} {what}.", connection.Endpoint, exception);
    }

    private static string Times(int count) => $"{count} time{(count == 1 ? string.Empty : "s")}";

    private static bool IsRedirect(HttpStatusCode status) => (int)status is 301 or 302 or 303 or 307 or 308;

    private static Uri? NextLink(HttpResponseMessage response, Uri requestUrl)
    {
        if (!response.Headers.TryGetValues("Link", out var values))
        {
            return null;
        }

        foreach (var part in values.SelectMany(v => v.Split(',')))
        {
            var segments = part.Split(';');
            if (segments.Length < 2 || !segments.Skip(1).Any(s => s.Trim().Replace(" ", string.Empty, StringComparison.Ordinal) is "rel=\"next\"" or "rel=next"))
            {
                continue;
            }

            var target = segments[0].Trim().TrimStart('<').TrimEnd('>');
            if (Uri.TryCreate(requestUrl, target, out var next))
            {
                return next;
            }
        }

        return null;
    }

    private static HubFileMetadata ReadMetadata(HttpResponseMessage response, Uri? location, Uri resolvedUrl)
    {
        var etag = CleanEtag(Header(response, "X-Linked-Etag") ?? response.Headers.ETag?.ToString() ?? Header(response, "ETag"));
        long? size = long.TryParse(Header(response, "X-Linked-Size"), NumberStyles.None, CultureInfo.InvariantCulture, out var linked)
            ? linked
            : response.Content.Headers.ContentLength;
        return new HubFileMetadata(Header(response, "X-Repo-Commit"), etag, size, location, resolvedUrl);
    }

    /// <summary>Strips a weak marker and quotes: <c>W/"abc"</c> → <c>abc</c>.</summary>
    internal static string? CleanEtag(string? etag)
    {
        if (string.IsNullOrWhiteSpace(etag))
        {
            return null;
        }

        var value = etag.Trim();
        if (value.StartsWith("W/", StringComparison.OrdinalIgnoreCase))
        {
            value = value[2..];
        }

        return value.Trim('"');
    }

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) || response.Content.Headers.TryGetValues(name, out values)
            ? values.FirstOrDefault()
            : null;

    private static string Display(HubConnection connection) => connection.Endpoint.ToString().TrimEnd('/');

    private async Task ThrowIfFailedAsync(HubConnection connection, HttpResponseMessage response, string? repoId, string? revision, string? path, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }

        var status = response.StatusCode;
        var code = Header(response, "X-Error-Code");
        var message = Header(response, "X-Error-Message") ?? await ReadErrorBodyAsync(response, cancellationToken).ConfigureAwait(false);
        var endpoint = connection.Endpoint;
        var repo = repoId ?? "the repository";
        LogFailed(_logger, (int)status, code ?? "-", response.RequestMessage?.RequestUri?.AbsolutePath ?? "?", message ?? string.Empty);
        throw code switch
        {
            "RepoNotFound" => new HubRepoNotFoundException(repo, endpoint, status, message),
            "RevisionNotFound" => new HubRevisionNotFoundException(repo, revision ?? "main", endpoint, status, message),
            "EntryNotFound" => new HubEntryNotFoundException(repo, path ?? "(unknown)", Header(response, "X-Repo-Commit"), endpoint, status, message),
            "GatedRepo" => new HubGatedRepoException(repo, connection.ModelPageUrl(repo), connection.Token is not null, endpoint, status),
            _ => (int)status switch
            {
                401 or 403 when !connection.IsHubHost(response.RequestMessage?.RequestUri ?? endpoint) =>
                    new HubException(HubErrorKind.BadResponse, $"The download host refused {repo}/{path} (HTTP {(int)status}{(message is null ? string.Empty : $": {Shorten(message)}")}); the signed link may have expired.", endpoint, status, repoId: repoId),
                401 => new HubUnauthorizedException(connection.Token is null
                    ? $"The Hub at {Display(connection)} wants a token for {repo} (HTTP 401): it may be private, or missing. Set a token on the Settings page or in HF_TOKEN."
                    : $"The Hub at {Display(connection)} rejected the configured token for {repo} (HTTP 401, token from {connection.TokenSource}).", endpoint, status, repoId),
                403 => new HubUnauthorizedException($"The Hub at {Display(connection)} refused access to {repo} (HTTP 403{(message is null ? string.Empty : $": {Shorten(message)}")}).", endpoint, status, repoId),
                429 => new HubException(HubErrorKind.Throttled, $"The Hub at {Display(connection)} is limiting requests (HTTP 429) and still did after {_options.MaxAttempts} attempts; try again in a minute.", endpoint, status, repoId: repoId),
                >= 500 => new HubException(HubErrorKind.ServerError, $"The Hub at {Display(connection)} failed (HTTP {(int)status}) {_options.MaxAttempts} times in a row; try again later.", endpoint, status, repoId: repoId),
                _ => new HubException(HubErrorKind.BadResponse, $"The Hub at {Display(connection)} refused the request (HTTP {(int)status}{(message is null ? string.Empty : $": {Shorten(message)}")}).", endpoint, status, code, repoId),
            },
        };
    }

    private static async Task<string?> ReadErrorBodyAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            if (string.IsNullOrWhiteSpace(text))
            {
                return null;
            }

            if (text.TrimStart().StartsWith('{'))
            {
                using var document = JsonDocument.Parse(text);
                if (document.RootElement.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.String)
                {
                    return error.GetString();
                }
            }

            return Shorten(text);
        }
        catch (Exception exception) when (exception is IOException or HttpRequestException or JsonException)
        {
            return $"(error body unreadable: {exception.Message})";
        }
    }

    private static string Shorten(string text) => text.Length <= 200 ? text.Trim() : text[..200].Trim() + "…";

    private sealed class Exchange(HttpResponseMessage response, Uri url) : IDisposable
    {
        public HttpResponseMessage Response { get; } = response;

        /// <summary>The URL that gave <see cref="Response"/> (after relative redirects).</summary>
        public Uri Url { get; } = url;

        public void Dispose() => Response.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Hub at {Endpoint} unreachable after {Attempts} attempt(s)")]
    private static partial void LogUnreachable(ILogger logger, Exception exception, string endpoint, int attempts);

    [LoggerMessage(Level = LogLevel.Information, Message = "Hub answered {Status} ({Code}) to {Path}: {Message}")]
    private static partial void LogFailed(ILogger logger, int status, string code, string path, string message);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Hub answer to {Path} is not the expected JSON")]
    private static partial void LogBadJson(ILogger logger, Exception exception, string path);
}
