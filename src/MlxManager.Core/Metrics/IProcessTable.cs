namespace MlxManager.Core.Metrics;

/// <summary>
/// The operating system's process table, read in the way each platform allows. One instance is meant to be
/// driven by one sampling loop: call <see cref="Refresh"/> once per tick, then <see cref="TryCollectTree"/>
/// for each root. <see cref="Identify"/> and <see cref="IsRunning"/> read live and may be called from any thread.
/// Processes that exit while being read are simply absent: no method throws for that.
/// </summary>
public interface IProcessTable
{
    /// <summary>Whether this platform is supported; when false every tree reads as gone.</summary>
    bool IsSupported { get; }

    /// <summary>What memory figure this platform reports, for labels: "resident memory (RSS)" or "physical footprint".</summary>
    string MemoryMetricName { get; }

    /// <summary>Takes a new snapshot for the following <see cref="TryCollectTree"/> calls (a no-op where reads are live).</summary>
    void Refresh();

    /// <summary>
    /// Adds <paramref name="root"/> and all its descendants to <paramref name="into"/> (cleared first).
    /// False when the root is gone, a zombie, or its PID now belongs to another process.
    /// </summary>
    bool TryCollectTree(ProcessIdentity root, List<ProcessUsage> into);

    /// <summary>The identity of the running process <paramref name="pid"/>, or null if there is none.</summary>
    ProcessIdentity? Identify(int pid);

    /// <summary>True when a process with this PID runs and started when <paramref name="identity"/> says (not a reused PID).</summary>
    bool IsRunning(ProcessIdentity identity);

    /// <summary>When the process started, in wall-clock time, or null when it is not running.</summary>
    DateTimeOffset? GetStartTime(ProcessIdentity identity);
}

/// <summary>Chooses the process table for the platform the manager runs on.</summary>
public static class ProcessTable
{
    /// <summary>Linux: <c>/proc</c>. macOS: libproc. Elsewhere: a table that reports every process as gone.</summary>
    public static IProcessTable ForCurrentPlatform() =>
        OperatingSystem.IsLinux() ? new LinuxProcessTable()
        : OperatingSystem.IsMacOS() ? new MacProcessTable()
        : new UnsupportedProcessTable();
}

/// <summary>For platforms without an implementation: nothing can be measured, which the UI shows as "n/a".</summary>
public sealed class UnsupportedProcessTable : IProcessTable
{
    public bool IsSupported => false;

    public string MemoryMetricName => "memory";

    public void Refresh()
    {
    }

    public bool TryCollectTree(ProcessIdentity root, List<ProcessUsage> into)
    {
        into.Clear();
        return false;
    }

    public ProcessIdentity? Identify(int pid) => null;

    public bool IsRunning(ProcessIdentity identity) => false;

    public DateTimeOffset? GetStartTime(ProcessIdentity identity) => null;
}
