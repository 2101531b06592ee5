namespace MlxManager.Core.Hub;

/// <summary>Timeouts and retries of the Hub client (configuration section <c>MlxManager:Hub</c>).</summary>
public sealed class HubClientOptions
{
    public const string SectionName = "MlxManager:Hub";

    /// <summary>Time allowed for one attempt, until the response headers (and, for JSON calls, the body) arrive.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Attempts per call, the first included, on 408/429/5xx, timeouts and dropped connections.</summary>
    public int MaxAttempts { get; set; } = 4;

    /// <summary>Back-off before the second attempt; doubled after each failure, with jitter (50–100 % of the value).</summary>
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromMilliseconds(400);

    /// <summary>Longest wait between attempts, also the cap on a server's <c>Retry-After</c>.</summary>
    public TimeSpan RetryMaxDelay { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>Redirects followed per call (only relative ones: renamed repositories).</summary>
    public int MaxRedirects { get; set; } = 5;
}
