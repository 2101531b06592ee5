using MlxManager.Core.Profiles;

namespace MlxManager.Core.Gateway;

/// <summary>Settings of the OpenAI-compatible gateway at <c>/v1</c>, section <c>MlxManager:Gateway</c>.</summary>
public sealed class GatewayOptions
{
    public const string SectionName = "MlxManager:Gateway";

    /// <summary>Idle time after which a server is unloaded when its profile leaves "Unload after idle" empty; zero never unloads.</summary>
    public TimeSpan DefaultIdleTimeout { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>Requests that may wait per profile behind its running ones; one more gets 429.</summary>
    public int MaxQueue { get; set; } = 64;

    /// <summary>How often a streaming request that waits for its model to load gets an SSE comment (<c>: loading 12 s</c>).</summary>
    public TimeSpan LoadingNoticeInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How often the idle unloader looks at the servers.</summary>
    public TimeSpan IdleCheckInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// Bytes all servers started through the gateway may use together; unset → the budget of the Models page's "Fits"
    /// verdict (on a Mac, Metal's recommended GPU working set) less <see cref="MemoryReserve"/>.
    /// </summary>
    public long? MemoryBudget { get; set; }

    /// <summary>Fraction of the machine's budget kept free when <see cref="MemoryBudget"/> is unset (0–0.9, default 0.1).</summary>
    public double MemoryReserve { get; set; } = 0.1;

    /// <summary>The idle time after which <paramref name="profile"/>'s server is unloaded; null when never (kept loaded, or 0).</summary>
    public TimeSpan? IdleTimeoutOf(Profile profile)
    {
        ArgumentNullException.ThrowIfNull(profile);
        var timeout = profile.UnloadAfterIdleMinutes is { } minutes ? TimeSpan.FromMinutes(minutes) : DefaultIdleTimeout;
        return profile.KeepLoaded || timeout <= TimeSpan.Zero ? null : timeout;
    }
}
