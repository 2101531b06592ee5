using MlxManager.Core.Gateway;
using MlxManager.Core.Metrics;
using MlxManager.Core.Servers;

namespace MlxManager.Web.Pages.Servers;

/// <summary>One server's tile: its state and its latest measurements.</summary>
/// <param name="Server">The supervisor's snapshot.</param>
/// <param name="Metrics">The latest tick's figures, when the sampler has measured it.</param>
/// <param name="History">The last five minutes, for the sparkline.</param>
/// <param name="CanManage">The viewer may start, stop and restart servers (admins).</param>
/// <param name="Now">When the fragment was rendered (uptime).</param>
/// <param name="MemoryMetricName">What the memory figure is on this platform ("resident memory (RSS)", "physical footprint").</param>
/// <param name="GatewayLine">How a ready server is used through the gateway ("Gateway: 12 requests · used 3 min ago · unloads in 28 min").</param>
public sealed record ServerTile(ServerSnapshot Server, ServerMetrics? Metrics, MetricsHistory? History, bool CanManage, DateTimeOffset Now, string MemoryMetricName, string? GatewayLine)
{
    /// <summary>How long it has run (until now, or until it ended): "12 s", "3 min 5 s".</summary>
    public string Uptime => Durations.Describe(Server.Uptime(Now));
}

/// <summary>The machine's memory and what all servers use of it, for the system memory bar.</summary>
/// <param name="TotalBytes">Installed memory; null when the platform does not tell.</param>
/// <param name="UsedBytes">In use by everything; null when unknown.</param>
/// <param name="ServersBytes">Used by the servers' process trees together.</param>
/// <param name="MemoryMetricName">What a server's memory figure is on this platform.</param>
public sealed record SystemMemoryBar(long? TotalBytes, long? UsedBytes, long ServersBytes, string MemoryMetricName);

/// <summary>Everything the live region of /servers shows: the memory bar and the tiles.</summary>
public sealed record ServersLive(SystemMemoryBar Memory, IReadOnlyList<ServerTile> Tiles, GpuReading Gpu, bool CanManage);

/// <summary>Builds <see cref="ServersLive"/> from the supervisor, the sampler and the gateway's lanes (no sampling happens here).</summary>
public sealed class ServersViewBuilder(IServerDirectory servers, MetricsSampler metrics, IProcessTable processes, GatewayUsage gateway, TimeProvider time)
{
    public async Task<ServersLive> BuildAsync(bool canManage, CancellationToken cancellationToken)
    {
        var latest = metrics.Latest;
        var now = time.GetUtcNow();
        var snapshots = servers.Servers;
        var lines = await gateway.DescribeAsync(snapshots, now, cancellationToken);
        var tiles = snapshots
            .Select(server => new ServerTile(
                server,
                server.IsActive ? latest?.Servers.FirstOrDefault(m => m.ServerId == server.ServerId && m.Root == server.Process) : null,
                server.IsActive ? metrics.HistoryFor(server.ServerId) : null,
                canManage,
                now,
                processes.MemoryMetricName,
                lines.GetValueOrDefault(server.ServerId)))
            .ToList();
        var serversBytes = tiles.Sum(t => t.Metrics is { IsRunning: true } m ? m.MemoryBytes : 0);
        var memory = new SystemMemoryBar(latest?.SystemMemory?.TotalBytes, latest?.SystemMemory?.UsedBytes, serversBytes, processes.MemoryMetricName);
        return new ServersLive(memory, tiles, latest?.Gpu ?? GpuReading.NotAvailable, canManage);
    }
}
