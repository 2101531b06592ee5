using MlxManager.Core.Gateway;
using MlxManager.Core.Metrics;
using MlxManager.Core.Servers;
using Prometheus;

namespace MlxManager.Web.Metrics;

/// <summary>
/// What <c>/metrics</c> shows, in a prometheus-net registry of this host's own (never the library's static default
/// registry, so several hosts in one process — the tests — each count their own). Servers' gauges are read from the
/// supervisor, the sampler and the gateway's lanes when scraped; request and token counters are fed by
/// <see cref="UsageMetricsObserver"/>. Labels are profile names, engines and a few fixed words — never user ids or key
/// names — so the number of series stays bounded by the profiles an admin creates.
/// </summary>
public sealed class PrometheusMetrics
{
    /// <summary>The label naming a profile (the gateway's model name) on every per-model and per-server series.</summary>
    public const string ProfileLabel = "profile";

    private readonly IServerDirectory _servers;
    private readonly MetricsSampler _sampler;
    private readonly GatewayLanes _lanes;
    private readonly Gauge _serverState;
    private readonly Gauge _serverMemory;
    private readonly Gauge _serverCpu;
    private readonly Gauge _serverProcesses;
    private readonly Gauge _serverInFlight;
    private readonly Gauge _systemMemoryTotal;
    private readonly Gauge _systemMemoryUsed;

    public PrometheusMetrics(IServerDirectory servers, MetricsSampler sampler, GatewayLanes lanes)
    {
        _servers = servers;
        _sampler = sampler;
        _lanes = lanes;
        Registry = Prometheus.Metrics.NewCustomRegistry();
        var factory = Prometheus.Metrics.WithCustomRegistry(Registry);

        string[] perRequest = ["source", ProfileLabel];
        Requests = factory.CreateCounter("mlxmanager_requests_total",
            "Requests through the gateway (source=gateway) and web-chat turns (source=chat) that ended, by outcome.",
            [.. perRequest, "outcome"]);
        Tokens = factory.CreateCounter("mlxmanager_tokens_total",
            "Tokens of ended requests by kind (prompt, completion, reasoning); estimated counts included.",
            [.. perRequest, "kind"]);
        QueueWait = factory.CreateHistogram("mlxmanager_queue_wait_seconds",
            "Time a request waited for a slot in its profile's lane (and for an on-demand start).",
            perRequest, new HistogramConfiguration { Buckets = [0.005, 0.05, 0.25, 1, 5, 15, 60, 300] });
        TimeToFirstToken = factory.CreateHistogram("mlxmanager_time_to_first_token_seconds",
            "Time from the request's arrival to the engine's first token.",
            perRequest, new HistogramConfiguration { Buckets = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 120] });
        Duration = factory.CreateHistogram("mlxmanager_request_duration_seconds",
            "Time from the request's arrival to its end.",
            perRequest, new HistogramConfiguration { Buckets = [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 180, 600] });

        string[] perServer = [ProfileLabel, "engine"];
        _serverState = factory.CreateGauge("mlxmanager_server_state",
            "1 for the state each server is in (starting, loading, ready, stopping, stopped, failed), 0 for the others.",
            [.. perServer, "state"]);
        _serverMemory = factory.CreateGauge("mlxmanager_server_memory_bytes",
            "Memory of the server's whole process tree (RSS on Linux, physical footprint on macOS).", perServer);
        _serverCpu = factory.CreateGauge("mlxmanager_server_cpu_percent",
            "CPU use of the server's process tree since the previous sample, in % of one core (can exceed 100).", perServer);
        _serverProcesses = factory.CreateGauge("mlxmanager_server_processes", "Processes in the server's tree.", perServer);
        _serverInFlight = factory.CreateGauge("mlxmanager_server_in_flight_requests",
            "Gateway requests and chat turns the profile's lane holds now (waiting or running).", perServer);
        _systemMemoryTotal = factory.CreateGauge("mlxmanager_system_memory_total_bytes", "The machine's memory.");
        _systemMemoryUsed = factory.CreateGauge("mlxmanager_system_memory_used_bytes", "The machine's memory in use (not available to new work without reclaiming).");
        Registry.AddBeforeCollectCallback(ReadServers);
    }

    /// <summary>The registry <c>/metrics</c> exports.</summary>
    public CollectorRegistry Registry { get; }

    internal Counter Requests { get; }

    internal Counter Tokens { get; }

    internal Histogram QueueWait { get; }

    internal Histogram TimeToFirstToken { get; }

    internal Histogram Duration { get; }

    /// <summary>Writes every series in the Prometheus text format (version 0.0.4).</summary>
    public Task ExportAsync(Stream destination, CancellationToken cancellationToken) =>
        Registry.CollectAndExportAsTextAsync(destination, cancellationToken);

    /// <summary>Sets the servers' gauges from what the supervisor and the sampler know now; servers gone lose their series.</summary>
    private void ReadServers()
    {
        var snapshot = _sampler.Latest;
        var shown = new HashSet<(string Profile, string Engine)>();
        foreach (var server in _servers.Servers)
        {
            var labels = (server.Profile.Name, server.Profile.Engine);
            shown.Add(labels);
            foreach (var state in Enum.GetValues<ServerState>())
            {
                _serverState.WithLabels(labels.Name, labels.Engine, state.Word()).Set(state == server.State ? 1 : 0);
            }

            _serverInFlight.WithLabels(labels.Name, labels.Engine).Set(_lanes.InFlight(server.ServerId));
            var measured = snapshot?.Servers.FirstOrDefault(s => s.ServerId == server.ServerId);
            if (server.IsActive && measured is { IsRunning: true })
            {
                _serverMemory.WithLabels(labels.Name, labels.Engine).Set(measured.MemoryBytes);
                _serverProcesses.WithLabels(labels.Name, labels.Engine).Set(measured.ProcessCount);
                if (measured.CpuPercent is { } cpu)
                {
                    _serverCpu.WithLabels(labels.Name, labels.Engine).Set(cpu);
                }
            }
            else
            {
                Forget([_serverMemory, _serverProcesses, _serverCpu], labels.Name, labels.Engine);
            }
        }

        foreach (var gauge in new[] { _serverMemory, _serverProcesses, _serverCpu, _serverInFlight, _serverState })
        {
            foreach (var values in gauge.GetAllLabelValues().ToList())
            {
                if (!shown.Contains((values[0], values[1])))
                {
                    gauge.RemoveLabelled(values);
                }
            }
        }

        if (snapshot?.SystemMemory is { } memory)
        {
            _systemMemoryTotal.Set(memory.TotalBytes);
            _systemMemoryUsed.Set(memory.UsedBytes);
        }
    }

    private static void Forget(Gauge[] gauges, string profile, string engine)
    {
        foreach (var gauge in gauges)
        {
            gauge.RemoveLabelled(profile, engine);
        }
    }
}
