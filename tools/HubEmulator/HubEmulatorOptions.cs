namespace MlxManager.HubEmulator;

/// <summary>How a <see cref="HubEmulatorHost"/> serves a root of repos. Everything has a default that behaves like
/// the real Hub; tests change only what they exercise.</summary>
public sealed record HubEmulatorOptions
{
    /// <summary>The folder holding <c>&lt;org&gt;/&lt;name&gt;/</c> repos (as written by <c>HubRootWriter</c>).</summary>
    public required string Root { get; init; }

    /// <summary>Port of the Hub endpoint on 127.0.0.1; 0 picks a free one.</summary>
    public int Port { get; init; }

    /// <summary>Port of the CDN endpoint that LFS redirects point to; 0 picks a free one. It is a different
    /// origin from the Hub on purpose, so clients must treat it as a foreign host (no token).</summary>
    public int CdnPort { get; init; }

    /// <summary>The token that has access to gated and private repos, presented as <c>Authorization: Bearer</c>.
    /// Any other token is treated as a valid user who has not been granted access (403 on gated repos).</summary>
    public string? Token { get; init; }

    /// <summary>Answer 401 "Invalid credentials in Authorization header" to every Hub request carrying a token other
    /// than <see cref="Token"/>, as the real Hub does for expired or revoked tokens.</summary>
    public bool RejectUnknownTokens { get; init; }

    /// <summary>Page size of <c>/api/models</c> when the request has no <c>limit</c>.</summary>
    public int SearchPageSize { get; init; } = 1000;

    /// <summary>Largest <c>limit</c> honoured by <c>/api/models</c>; bigger values are clamped.</summary>
    public int MaxSearchLimit { get; init; } = 1000;

    /// <summary>Page size of <c>/api/models/{id}/tree/{rev}</c>; small values let tests exercise <c>Link</c> paging.</summary>
    public int TreePageSize { get; init; } = 1000;

    /// <summary>How long a signed CDN URL stays valid.</summary>
    public TimeSpan CdnUrlLifetime { get; init; } = TimeSpan.FromHours(1);

    /// <summary>The CDN answers 400 to a request that carries an <c>Authorization</c> header next to its signed
    /// query, as S3 presigned URLs do, so a client that forwards the Hub token to the CDN fails visibly
    /// (hf-hub.md: the token goes to the Hub only). CloudFront would ignore the header; turn this off to mimic it.</summary>
    public bool CdnRejectsAuthorization { get; init; } = true;

    /// <summary>Send <c>ETag: W/"…"</c> (the weak form) on resolve responses; clients must strip <c>W/</c>.</summary>
    public bool WeakEtags { get; init; }

    /// <summary>Old repo id → current repo id: requests for the old id get a relative 307 to the new one
    /// (also settable per repo with <c>"renamedFrom"</c> in its <c>.hub.json</c>).</summary>
    public IReadOnlyDictionary<string, string> RenamedRepos { get; init; } = new Dictionary<string, string>();

    /// <summary>Faults active from the first request.</summary>
    public FaultSettings? Faults { get; init; }

    /// <summary>Clock for CDN signature expiry (tests pass a manual one). Throttling and delays always use real time.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>Write one line per request (and start-up messages) to stdout.</summary>
    public bool LogToConsole { get; init; }

    /// <summary>How many requests the log keeps (oldest dropped first).</summary>
    public int RequestLogCapacity { get; init; } = 10_000;
}
