using System.Diagnostics;
using System.Globalization;

namespace MlxManager.Core.Downloads;

/// <summary>
/// Who holds a download record while working on it: <c>machine|pid|processStart|run</c>. The record's lease
/// (<see cref="Download.LeaseOwner"/>, <see cref="Download.LeaseExpiresAtUtc"/>) is the cross-process half of the
/// per-repository lock: a second job run, in this process or another, sees it and stays away. A lease left by a
/// process of this machine that is no longer alive is free at once; any other lease when it expires.
/// </summary>
public sealed record DownloadLease(string Machine, int ProcessId, long ProcessStartTicks, string Run)
{
    private static readonly Lazy<(int Pid, long Start)> Current = new(() =>
    {
        using var process = Process.GetCurrentProcess();
        return (process.Id, process.StartTime.ToUniversalTime().Ticks);
    });

    /// <summary>A new lease identity for one run of this process.</summary>
    public static DownloadLease ForThisProcess(string run) =>
        new(Environment.MachineName, Current.Value.Pid, Current.Value.Start, run);

    public override string ToString() =>
        string.Join('|', Machine.Replace('|', '_'), ProcessId.ToString(CultureInfo.InvariantCulture), ProcessStartTicks.ToString(CultureInfo.InvariantCulture), Run);

    public static DownloadLease? Parse(string? text)
    {
        var parts = text?.Split('|');
        return parts is { Length: 4 }
            && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var pid)
            && long.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var start)
            ? new DownloadLease(parts[0], pid, start, parts[3])
            : null;
    }

    /// <summary>
    /// True when a record held by <paramref name="owner"/> until <paramref name="expiresAtUtc"/> may be taken now: no
    /// owner, an expired lease, or an owner process on this machine that has exited (a crash or kill; its PID may
    /// since have been reused, which the start time tells apart).
    /// </summary>
    public static bool IsFree(string? owner, DateTime? expiresAtUtc, DateTime nowUtc)
    {
        if (string.IsNullOrEmpty(owner) || expiresAtUtc is null || expiresAtUtc <= nowUtc)
        {
            return true;
        }

        var lease = Parse(owner);
        return lease is not null
            && string.Equals(lease.Machine, Environment.MachineName.Replace('|', '_'), StringComparison.Ordinal)
            && !IsAlive(lease.ProcessId, lease.ProcessStartTicks);
    }

    // Start times are derived from the boot time, which the runtime may compute with a little jitter.
    private static bool SameStart(long a, long b) => Math.Abs(a - b) < TimeSpan.TicksPerSecond;

    private static bool IsAlive(int pid, long startTicks)
    {
        if (pid == Current.Value.Pid)
        {
            return SameStart(startTicks, Current.Value.Start);
        }

        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited && SameStart(process.StartTime.ToUniversalTime().Ticks, startTicks);
        }
        catch (ArgumentException)
        {
            // No process has that id any more.
            return false;
        }
        catch (InvalidOperationException)
        {
            // It exited while being looked at.
            return false;
        }
    }
}
