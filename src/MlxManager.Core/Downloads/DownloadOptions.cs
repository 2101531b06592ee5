namespace MlxManager.Core.Downloads;

/// <summary>Settings of model downloads (configuration section <c>MlxManager:Downloads</c>).</summary>
public sealed class DownloadOptions
{
    public const string SectionName = "MlxManager:Downloads";

    /// <summary>
    /// Models downloading at once: the worker count of the Hangfire server of the downloads queue. The others wait in
    /// that queue, in the order they were asked for. Read at start-up.
    /// </summary>
    public int MaxConcurrent { get; set; } = 2;

    /// <summary>Files of one model transferred at once.</summary>
    public int ParallelFiles { get; set; } = 4;

    /// <summary>
    /// Transfers of one file broken after their headers (cut connections, stalls, bad checksums, a refused signed
    /// link) resumed in a row before the download fails with the reason. An attempt that received bytes resets the
    /// count: a flaky line that keeps moving forward never gives up. Requests themselves (429, 5xx, timeouts) are
    /// retried by the Hub client only (<c>MlxManager:Hub:MaxAttempts</c>).
    /// </summary>
    public int MaxRetries { get; set; } = 6;

    /// <summary>Back-off before the first resumption; doubled after each failure, with jitter (50–100 % of the value).</summary>
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Longest back-off between retries of one file.</summary>
    public TimeSpan RetryMaxDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>A transfer that receives no byte for this long is dropped and resumed.</summary>
    public TimeSpan StallTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often progress is written to the download record and pushed to pages.</summary>
    public TimeSpan ProgressInterval { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// How long a running download's claim on its record lasts without renewal. Renewed on every progress write; a
    /// claim left by a process that died on this machine is taken over at once, one left by another machine after
    /// this time.
    /// </summary>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Size of the pooled buffer a transfer reads into; each read's bytes are hashed and written from it at once. Small
    /// enough to stay in the CPU's cache between those steps: on the benchmark machine 128 KiB took less CPU per GB than
    /// 32 KiB (more reads) or 256 KiB and 1 MiB (the bytes left the cache before they were hashed and written).
    /// </summary>
    public int BufferBytes { get; set; } = 128 * 1024;
}
