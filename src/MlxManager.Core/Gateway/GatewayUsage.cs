using Microsoft.Extensions.Options;
using MlxManager.Core.Profiles;
using MlxManager.Core.Servers;

namespace MlxManager.Core.Gateway;

/// <summary>
/// How each ready server is used through the gateway, in one line for its tile on /servers: "Gateway: 12 requests ·
/// used 3 min ago · unloads in 28 min" (or "kept loaded", "never unloads"). Relative times are as of
/// <c>now</c>: the tiles are rendered once per metrics tick, so they stay right without a render per client.
/// </summary>
public sealed class GatewayUsage(GatewayLanes lanes, GatewayRouter router, IOptions<GatewayOptions> options)
{
    /// <summary>The line of every ready server in <paramref name="servers"/>, by server id (the others have none).</summary>
    public async Task<IReadOnlyDictionary<int, string>> DescribeAsync(IReadOnlyList<ServerSnapshot> servers, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(servers);
        if (!servers.Any(s => s.IsReady))
        {
            return new Dictionary<int, string>();
        }

        // The unloader reads the profiles as saved now (a "Keep loaded" ticked on a running server applies at once): so does the line.
        var profiles = (await router.ProfilesAsync(cancellationToken).ConfigureAwait(false)).ToDictionary(p => p.Id);
        return servers.Where(s => s.IsReady).ToDictionary(s => s.ServerId, s => Describe(s, profiles.GetValueOrDefault(s.ServerId) ?? s.Profile, lanes, options.Value, now));
    }

    /// <summary>The line of one ready server whose profile (as saved now) is <paramref name="profile"/>.</summary>
    public static string Describe(ServerSnapshot server, Profile profile, GatewayLanes lanes, GatewayOptions options, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(server);
        ArgumentNullException.ThrowIfNull(profile);
        ArgumentNullException.ThrowIfNull(lanes);
        ArgumentNullException.ThrowIfNull(options);
        var id = server.ServerId;
        var served = lanes.Served(id, server.RunId);
        var inFlight = lanes.InFlight(id);
        var parts = new List<string> { served == 1 ? "1 request" : $"{served} requests" };
        if (inFlight > 0)
        {
            parts.Add($"{inFlight} in flight");
        }
        else
        {
            parts.Add(lanes.LastUsed(id) is { } used && used >= server.StartedAt ? $"used {Durations.DescribeRoughly(now - used)} ago" : "not used yet");
        }

        parts.Add(options.IdleTimeoutOf(profile) is not { } timeout ? (profile.KeepLoaded ? "kept loaded" : "never unloads")
            : inFlight > 0 ? $"unloads {Durations.DescribeRoughly(timeout)} after its last request"
            : timeout - (now - lanes.IdleSince(server)) is var left && left > TimeSpan.Zero ? $"unloads in {Durations.DescribeRoughly(left)}"
            : "unloads at the next idle check");
        return "Gateway: " + string.Join(" · ", parts);
    }
}
