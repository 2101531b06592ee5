namespace MlxManager.Core.Hub;

/// <summary>Timeouts, retries and read limits of the Hub client (configuration section <c>MlxManager:Hub</c>); see <see cref="HubResilience"/>.</summary>
public sealed class HubClientOptions
{
    public const string SectionName = "MlxManager:Hub";

    /// <summary>Time allowed for one attempt, until the response headers (and, for JSON and metadata reads, the body) arrive.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Attempts per request in all, the first included, on 408/429/5xx, timeouts and dropped connections: the only
    /// layer of request retries (the downloader only resumes transfers broken after their headers).
    /// </summary>
    public int MaxAttempts { get; set; } = 4;

    /// <summary>Back-off before the second attempt; doubled after each failure, with jitter (50–100 % of the value).</summary>
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromMilliseconds(400);

    /// <summary>Longest wait between attempts, also the cap on a server's <c>Retry-After</c>.</summary>
    public TimeSpan RetryMaxDelay { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>Redirects followed per call (only relative ones: renamed repositories).</summary>
    public int MaxRedirects { get; set; } = 5;

    /// <summary>
    /// Largest metadata file (config, tokenizer config, chat template) read into memory: detection skips bigger ones
    /// by their size in the file tree, and a read stops one byte past it.
    /// </summary>
    public long MaxMetadataFileBytes { get; set; } = 8 * 1024 * 1024;
}
