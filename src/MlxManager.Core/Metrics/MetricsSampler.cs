using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace MlxManager.Core.Metrics;

/// <summary>Metrics settings, bound from <c>MlxManager:Metrics</c>.</summary>
public sealed class MetricsOptions
{
    public const string SectionName = "MlxManager:Metrics";

    /// <summary>How often every server is sampled (one timer for all). Default 2 s; kept within 0.25–60 s.</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How much history each server keeps. Default 5 minutes.</summary>
    public TimeSpan HistoryWindow { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How long a GPU probe command may take before the reading is "n/a". Default 2 s.</summary>
    public TimeSpan GpuProbeTimeout { get; set; } = TimeSpan.FromSeconds(2);

    internal TimeSpan EffectiveInterval => Interval < TimeSpan.FromMilliseconds(250) ? TimeSpan.FromMilliseconds(250)
        : Interval > TimeSpan.FromMinutes(1) ? TimeSpan.FromMinutes(1) : Interval;
}

/// <summary>One tick's measurements of the machine and every tracked server.</summary>
/// <param name="At">When the tick ran.</param>
/// <param name="SystemMemory">The machine's memory, null where the platform does not tell.</param>
/// <param name="Gpu">GPU utilisation for the whole machine (or n/a).</param>
/// <param name="MemoryMetricName">What server memory means on this platform, for labels.</param>
/// <param name="Servers">One entry per tracked server, in id order.</param>
public sealed record MetricsSnapshot(DateTimeOffset At, SystemMemory? SystemMemory, GpuReading Gpu, string MemoryMetricName, IReadOnlyList<ServerMetrics> Servers)
{
    /// <summary>What all servers use together, for the system memory bar.</summary>
    public long ServersMemoryBytes => Servers.Sum(s => s.MemoryBytes);
}

/// <summary>One server's measurements at one tick.</summary>
/// <param name="ServerId">The id the supervisor tracked it under (the profile id).</param>
/// <param name="Root">The process it was started as.</param>
/// <param name="IsRunning">False when the process is gone or its PID was reused.</param>
/// <param name="ProcessCount">Processes in its tree.</param>
/// <param name="MemoryBytes">Memory of the whole tree.</param>
/// <param name="MemoryFraction">Memory as a fraction of the machine's total (0–1), null when the total is unknown.</param>
/// <param name="CpuPercent">CPU % of the tree since the previous tick (can exceed 100); null on the first tick.</param>
/// <param name="Gpu">The system-wide GPU reading, repeated here for the tile (labelled system-wide).</param>
public sealed record ServerMetrics(
    int ServerId,
    ProcessIdentity Root,
    bool IsRunning,
    int ProcessCount,
    long MemoryBytes,
    double? MemoryFraction,
    double? CpuPercent,
    GpuReading Gpu);

/// <summary>
/// The one background sampler: every <see cref="MetricsOptions.Interval"/> it refreshes the process table
/// once, samples every tracked server's process tree, the machine's memory and the GPU, appends to each
/// server's <see cref="MetricsHistory"/>, and publishes a <see cref="MetricsSnapshot"/> to subscribers.
/// Pages never trigger sampling; they read <see cref="Latest"/> or subscribe (e.g. to bridge to SSE).
/// Register it as a singleton and as a hosted service.
/// </summary>
public sealed partial class MetricsSampler : BackgroundService
{
    private readonly IProcessTable _table;
    private readonly ISystemMemoryProbe _memory;
    private readonly IGpuProbe _gpu;
    private readonly TimeProvider _time;
    private readonly MetricsOptions _options;
    private readonly ILogger<MetricsSampler> _logger;
    private readonly Lock _lock = new();
    private readonly SortedDictionary<int, TrackedServer> _servers = [];
    private readonly List<TrackedServer> _sampling = [];
    private readonly List<Channel<MetricsSnapshot>> _subscribers = [];
    private readonly SemaphoreSlim _tick = new(1, 1);
    private MetricsSnapshot? _latest;

    public MetricsSampler(
        IProcessTable table,
        ISystemMemoryProbe memory,
        IGpuProbe gpu,
        TimeProvider time,
        IOptions<MetricsOptions> options,
        ILogger<MetricsSampler> logger)
    {
        _table = table;
        _memory = memory;
        _gpu = gpu;
        _time = time;
        _options = options.Value;
        _logger = logger;
    }

    /// <summary>Raised after each tick, on the sampling thread. Keep handlers short; exceptions are logged.</summary>
    public event Action<MetricsSnapshot>? SnapshotPublished;

    /// <summary>The latest tick's snapshot, or null before the first.</summary>
    public MetricsSnapshot? Latest => Volatile.Read(ref _latest);

    /// <summary>
    /// Starts measuring a server's process tree. Tracking the same id again (a restart) measures the new
    /// process and keeps the history.
    /// </summary>
    public void Track(int serverId, ProcessIdentity root)
    {
        lock (_lock)
        {
            var history = _servers.TryGetValue(serverId, out var existing)
                ? existing.History
                : MetricsHistory.For(_options.HistoryWindow, _options.EffectiveInterval);
            _servers[serverId] = new TrackedServer(serverId, new ProcessTreeSampler(_table, root, _time), history);
        }
    }

    /// <summary>Stops measuring a server and forgets its history. False when it was not tracked.</summary>
    public bool Untrack(int serverId)
    {
        lock (_lock)
        {
            return _servers.Remove(serverId);
        }
    }

    /// <summary>The ids of the servers being measured.</summary>
    public IReadOnlyList<int> TrackedServers
    {
        get
        {
            lock (_lock)
            {
                return [.. _servers.Keys];
            }
        }
    }

    /// <summary>A server's history (live, thread-safe), or null when it is not tracked.</summary>
    public MetricsHistory? HistoryFor(int serverId)
    {
        lock (_lock)
        {
            return _servers.TryGetValue(serverId, out var server) ? server.History : null;
        }
    }

    /// <summary>A server's entry in the latest snapshot, or null.</summary>
    public ServerMetrics? LatestFor(int serverId) => Latest?.Servers.FirstOrDefault(s => s.ServerId == serverId);

    /// <summary>
    /// A subscription to snapshots. Each subscriber holds only the newest snapshot it has not read yet, so a
    /// slow reader skips ticks instead of piling them up. Dispose it to unsubscribe.
    /// </summary>
    public MetricsSubscription Subscribe()
    {
        var channel = Channel.CreateBounded<MetricsSnapshot>(new BoundedChannelOptions(1)
        {
            FullMode = BoundedChannelFullMode.DropOldest,
            SingleReader = true,
            SingleWriter = true,
        });
        lock (_lock)
        {
            _subscribers.Add(channel);
        }

        if (Latest is { } latest)
        {
            channel.Writer.TryWrite(latest); // a new page gets something to render at once
        }

        return new MetricsSubscription(channel.Reader, () => Unsubscribe(channel));
    }

    /// <summary>Snapshots as they are published until <paramref name="cancellationToken"/> fires (e.g. the request aborts).</summary>
    public async IAsyncEnumerable<MetricsSnapshot> ReadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var subscription = Subscribe();
        while (await subscription.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
        {
            while (subscription.Reader.TryRead(out var snapshot))
            {
                yield return snapshot;
            }
        }
    }

    /// <summary>Runs one tick now (the background loop calls this on its timer) and returns its snapshot.</summary>
    public async Task<MetricsSnapshot> SampleOnceAsync(CancellationToken cancellationToken)
    {
        await _tick.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            lock (_lock)
            {
                _sampling.Clear();
                _sampling.AddRange(_servers.Values);
            }

            var gpu = _sampling.Count > 0 ? await _gpu.ReadAsync(cancellationToken).ConfigureAwait(false) : GpuReading.NotAvailable;
            var systemMemory = _memory.Read();
            var now = _time.GetUtcNow();
            if (_sampling.Count > 0)
            {
                _table.Refresh();
            }

            var servers = new ServerMetrics[_sampling.Count];
            for (var i = 0; i < _sampling.Count; i++)
            {
                var server = _sampling[i];
                var sample = server.Sampler.Sample();
                servers[i] = new ServerMetrics(
                    server.Id,
                    server.Sampler.Root,
                    sample.IsRunning,
                    sample.ProcessCount,
                    sample.MemoryBytes,
                    systemMemory is { TotalBytes: > 0 } m ? (double)sample.MemoryBytes / m.TotalBytes : null,
                    sample.CpuPercent,
                    gpu);
                if (sample.IsRunning)
                {
                    server.History.Add(new MetricsPoint(now, sample.CpuPercent, sample.MemoryBytes, gpu.UtilizationPercent));
                }
            }

            var snapshot = new MetricsSnapshot(now, systemMemory, gpu, _table.MemoryMetricName, servers);
            Volatile.Write(ref _latest, snapshot);
            Publish(snapshot);
            return snapshot;
        }
        finally
        {
            _tick.Release();
        }
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(_options.EffectiveInterval, _time);
        try
        {
            do
            {
                try
                {
                    await SampleOnceAsync(stoppingToken).ConfigureAwait(false);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    LogTickFailed(_logger, e);
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            LogStopped(_logger);
        }
        finally
        {
            CompleteSubscribers();
        }
    }

    private void Publish(MetricsSnapshot snapshot)
    {
        lock (_lock)
        {
            foreach (var subscriber in _subscribers)
            {
                subscriber.Writer.TryWrite(snapshot);
            }
        }

        var handlers = SnapshotPublished;
        if (handlers is null)
        {
            return;
        }

        foreach (var handler in handlers.GetInvocationList().Cast<Action<MetricsSnapshot>>())
        {
            try
            {
                handler(snapshot);
            }
            catch (Exception e)
            {
                LogHandlerFailed(_logger, e);
            }
        }
    }

    private void Unsubscribe(Channel<MetricsSnapshot> channel)
    {
        lock (_lock)
        {
            _subscribers.Remove(channel);
        }

        channel.Writer.TryComplete();
    }

    private void CompleteSubscribers()
    {
        lock (_lock)
        {
            foreach (var subscriber in _subscribers)
            {
                subscriber.Writer.TryComplete();
            }

            _subscribers.Clear();
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "A metrics tick failed; the next tick will try again")]
    private static partial void LogTickFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A metrics subscriber threw while handling a snapshot")]
    private static partial void LogHandlerFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Metrics sampling stopped")]
    private static partial void LogStopped(ILogger logger);

    private sealed record TrackedServer(int Id, ProcessTreeSampler Sampler, MetricsHistory History);
}

/// <summary>A live feed of snapshots; dispose it to stop receiving them.</summary>
public sealed class MetricsSubscription(ChannelReader<MetricsSnapshot> reader, Action unsubscribe) : IDisposable
{
    private int _disposed;

    /// <summary>Holds at most the newest unread snapshot; completes when the sampler stops.</summary>
    public ChannelReader<MetricsSnapshot> Reader { get; } = reader;

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            unsubscribe();
        }
    }
}
