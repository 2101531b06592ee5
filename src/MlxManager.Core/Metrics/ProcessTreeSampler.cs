namespace MlxManager.Core.Metrics;

/// <summary>
/// Measures one process tree over time. CPU % is the growth of the tree's processor time between two
/// consecutive <see cref="Sample"/> calls of this same instance, divided by the wall time between them
/// (100 % = one core busy; a tree can use several cores). The first sample has no CPU figure yet. A fresh
/// sampler per poll would always read 0 % — keep one per server.
/// </summary>
/// <remarks>
/// Per-process bookkeeping keeps the figure honest as the tree changes: a child that appeared since the last
/// sample contributes all its processor time (it was spent since then), a child that exited simply drops
/// out instead of making the total jump backwards. A sample that comes less than <see cref="MinimumWindow"/>
/// after the last measured one (a timer catching up after a stall) repeats the last figure and keeps the old
/// baseline: processor time is counted in 10 ms clock ticks, so a window of a few milliseconds would read a
/// busy server as 0 % or an idle one as several cores. Not thread-safe: one sampling loop drives it.
/// </remarks>
public sealed class ProcessTreeSampler
{
    private readonly IProcessTable _table;
    private readonly TimeProvider _time;
    private readonly List<ProcessUsage> _processes = new(8);
    private Dictionary<ProcessIdentity, TimeSpan> _previous = new(8);
    private Dictionary<ProcessIdentity, TimeSpan> _current = new(8);
    private long _previousTimestamp;
    private bool _hasPrevious;
    private double? _lastCpuPercent;

    /// <summary>The shortest wall time a CPU figure is measured over.</summary>
    public static readonly TimeSpan MinimumWindow = TimeSpan.FromMilliseconds(100);

    public ProcessTreeSampler(IProcessTable table, ProcessIdentity root, TimeProvider time)
    {
        _table = table;
        _time = time;
        Root = root;
    }

    /// <summary>The process the tree hangs from.</summary>
    public ProcessIdentity Root { get; }

    /// <summary>
    /// Reads the tree from the table's current snapshot (call <see cref="IProcessTable.Refresh"/> first once
    /// per tick) and computes CPU % against the previous sample.
    /// </summary>
    public ProcessTreeSample Sample()
    {
        var now = _time.GetTimestamp();
        if (!_table.TryCollectTree(Root, _processes))
        {
            _hasPrevious = false;
            _lastCpuPercent = null;
            _previous.Clear();
            return ProcessTreeSample.Gone;
        }

        var tooSoon = _hasPrevious && _time.GetElapsedTime(_previousTimestamp, now) < MinimumWindow;

        _current.Clear();
        long memory = 0;
        var total = TimeSpan.Zero;
        var grown = TimeSpan.Zero;
        foreach (var process in _processes)
        {
            memory += process.MemoryBytes;
            total += process.CpuTime;
            _current[process.Identity] = process.CpuTime;
            if (!_hasPrevious || tooSoon)
            {
                continue;
            }

            grown += _previous.TryGetValue(process.Identity, out var before)
                ? process.CpuTime > before ? process.CpuTime - before : TimeSpan.Zero
                : process.CpuTime;
        }

        if (tooSoon)
        {
            return new ProcessTreeSample(true, _processes.Count, memory, total, _lastCpuPercent);
        }

        double? cpuPercent = null;
        if (_hasPrevious)
        {
            var wall = _time.GetElapsedTime(_previousTimestamp, now);
            cpuPercent = Math.Max(0, grown / wall * 100);
        }

        _lastCpuPercent = cpuPercent;
        (_previous, _current) = (_current, _previous);
        _previousTimestamp = now;
        _hasPrevious = true;
        return new ProcessTreeSample(true, _processes.Count, memory, total, cpuPercent);
    }
}

/// <summary>One measurement of a process tree.</summary>
/// <param name="IsRunning">False when the root has exited or its PID belongs to another process now.</param>
/// <param name="ProcessCount">Processes in the tree, root included.</param>
/// <param name="MemoryBytes">Sum over the tree: resident memory on Linux, physical footprint on macOS.
/// (On Linux, pages shared between processes of the tree count once per process.)</param>
/// <param name="CpuTime">Processor time of the processes now in the tree, since each started.</param>
/// <param name="CpuPercent">Since the previous sample of the same sampler; null on the first one. Can exceed 100.</param>
public readonly record struct ProcessTreeSample(bool IsRunning, int ProcessCount, long MemoryBytes, TimeSpan CpuTime, double? CpuPercent)
{
    public static readonly ProcessTreeSample Gone = new(false, 0, 0, TimeSpan.Zero, null);
}
