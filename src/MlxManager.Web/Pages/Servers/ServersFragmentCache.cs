using System.Security.Cryptography;
using System.Text;
using Microsoft.Net.Http.Headers;
using MlxManager.Core.Metrics;
using MlxManager.Core.Servers;
using MlxManager.Web.Endpoints;

namespace MlxManager.Web.Pages.Servers;

/// <summary>The live region rendered for one role at one state of the servers and the sampler.</summary>
/// <param name="Html">The fragment, UTF-8.</param>
/// <param name="ETag">A hash of <paramref name="Html"/>: equal content gives an equal tag, even across restarts.</param>
public sealed record ServersFragment(byte[] Html, EntityTagHeaderValue ETag);

/// <summary>
/// Every open /servers page fetches the live region on every tick, and every page of one role sees the same HTML,
/// so it is rendered once per tick and role and served to all of them. The fragment holds nothing per user: its
/// buttons post with htmx, which sends the antiforgery token from the layout's <c>htmx-config</c> as a header,
/// so no form carries a per-render token. A cached fragment is current while the supervisor's
/// <see cref="IServerDirectory.Version"/> (it grows with every change event) and the sampler's latest snapshot
/// (replaced on every metrics tick) are the ones it was rendered from; otherwise the next request renders it again.
/// The tiles' gateway line (requests served, "used 3 min ago", "unloads in 28 min") is not part of the stamp: it is
/// read at each render, so it is at most one tick old and its relative times are as of that render.
/// </summary>
public sealed class ServersFragmentCache(IServerDirectory servers, MetricsSampler metrics, ServersViewBuilder view, RazorPartials partials)
{
    private const string PartialPath = "/Pages/Servers/Partials/_Live.cshtml";

    private readonly Entry _admin = new();
    private readonly Entry _member = new();
    private long _renders;

    /// <summary>How many times the fragment was rendered (for tests: once per tick and role, whatever the number of clients).</summary>
    internal long Renders => Interlocked.Read(ref _renders);

    /// <summary>The live region for administrators (<paramref name="canManage"/>) or members, rendered only when stale.</summary>
    public async Task<ServersFragment> GetAsync(HttpContext context, bool canManage)
    {
        var entry = canManage ? _admin : _member;
        var stamp = new Stamp(servers.Version, metrics.Latest);
        if (entry.Current is { } fresh && fresh.Stamp == stamp)
        {
            return fresh.Fragment;
        }

        await entry.Gate.WaitAsync(context.RequestAborted);
        try
        {
            // Stamp read again: another request may have rendered this state while this one waited.
            stamp = new Stamp(servers.Version, metrics.Latest);
            if (entry.Current is { } rendered && rendered.Stamp == stamp)
            {
                return rendered.Fragment;
            }

            var html = Encoding.UTF8.GetBytes(await partials.RenderAsync(context, PartialPath, await view.BuildAsync(canManage, context.RequestAborted)));
            Interlocked.Increment(ref _renders);
            var tag = new EntityTagHeaderValue($"\"{Convert.ToHexString(SHA256.HashData(html).AsSpan(0, 12))}\"");
            var fragment = new ServersFragment(html, tag);
            entry.Current = new Cached(stamp, fragment);
            return fragment;
        }
        finally
        {
            entry.Gate.Release();
        }
    }

    /// <summary>What a fragment was rendered from: compared by the version and by the snapshot's identity.</summary>
    private sealed record Stamp(long Version, MetricsSnapshot? Metrics)
    {
        public bool Equals(Stamp? other) => other is not null && Version == other.Version && ReferenceEquals(Metrics, other.Metrics);

        public override int GetHashCode() => HashCode.Combine(Version, Metrics is null ? 0 : System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(Metrics));
    }

    private sealed record Cached(Stamp Stamp, ServersFragment Fragment);

    private sealed class Entry
    {
        public SemaphoreSlim Gate { get; } = new(1, 1);

        public volatile Cached? Current;
    }
}
