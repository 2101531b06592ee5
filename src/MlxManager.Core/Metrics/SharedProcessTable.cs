namespace MlxManager.Core.Metrics;

/// <summary>
/// The one process table of the manager, shared by the metrics sampler (every tick) and the supervisor (the
/// process tree of a server it stops). The platform tables keep one snapshot per <see cref="Refresh"/> and walk it
/// with reused buffers, so snapshot reads are serialised here; live reads (<see cref="Identify"/>,
/// <see cref="IsRunning"/>, <see cref="GetStartTime"/>) need no lock and take none.
/// </summary>
/// <remarks>
/// A reader may see a snapshot refreshed by the other between its own <see cref="Refresh"/> and
/// <see cref="TryCollectTree"/>: that snapshot is only newer, never torn.
/// </remarks>
public sealed class SharedProcessTable(IProcessTable inner) : IProcessTable
{
    private readonly Lock _lock = new();

    public bool IsSupported => inner.IsSupported;

    public string MemoryMetricName => inner.MemoryMetricName;

    public void Refresh()
    {
        lock (_lock)
        {
            inner.Refresh();
        }
    }

    public bool TryCollectTree(ProcessIdentity root, List<ProcessUsage> into)
    {
        lock (_lock)
        {
            return inner.TryCollectTree(root, into);
        }
    }

    public ProcessIdentity? Identify(int pid) => inner.Identify(pid);

    public bool IsRunning(ProcessIdentity identity) => inner.IsRunning(identity);

    public DateTimeOffset? GetStartTime(ProcessIdentity identity) => inner.GetStartTime(identity);
}
