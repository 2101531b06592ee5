namespace MlxManager.Core.Metrics;

/// <summary>
/// A process as the operating system knows it: its id plus when it started, so that a reused PID is
/// never mistaken for the process the manager started (used to re-attach after a manager restart).
/// </summary>
/// <param name="Pid">The process id.</param>
/// <param name="StartTime">Opaque start marker, only compared for equality and stored as is: clock ticks
/// since boot on Linux (<c>/proc/&lt;pid&gt;/stat</c> field 22), microseconds since the Unix epoch on macOS
/// (<c>pbi_start_tvsec</c>/<c>pbi_start_tvusec</c>).</param>
public readonly record struct ProcessIdentity(int Pid, long StartTime)
{
    public override string ToString() => $"pid {Pid} (started {StartTime})";
}

/// <summary>What one process of a tree uses at the moment of reading.</summary>
/// <param name="Pid">Process id.</param>
/// <param name="ParentPid">Parent process id.</param>
/// <param name="StartTime">Start marker, as in <see cref="ProcessIdentity.StartTime"/>.</param>
/// <param name="CpuTime">User plus system processor time since the process started, over all its threads.</param>
/// <param name="MemoryBytes">Resident set on Linux, physical footprint on macOS.</param>
public readonly record struct ProcessUsage(int Pid, int ParentPid, long StartTime, TimeSpan CpuTime, long MemoryBytes)
{
    public ProcessIdentity Identity => new(Pid, StartTime);
}
