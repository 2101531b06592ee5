using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace MlxManager.Core.Metrics;

/// <summary>
/// macOS: children from <c>proc_listpids(PROC_PPID_ONLY)</c>, identity and parent from
/// <c>proc_pidinfo(PROC_PIDTBSDINFO)</c>, CPU time and physical footprint (what Activity Monitor shows,
/// including MLX's unified-memory buffers) from <c>proc_pid_rusage(RUSAGE_INFO_V2)</c>. Reads are live, so
/// <see cref="Refresh"/> does nothing. CPU times arrive in Mach absolute-time units and are converted with
/// <c>mach_timebase_info</c> (on Apple Silicon one unit is 125/3 ns, not 1 ns).
/// </summary>
[SupportedOSPlatform("macos")]
public sealed class MacProcessTable : IProcessTable
{
    private readonly double _nanosecondsPerMachUnit;
    private readonly Queue<int> _pending = new();
    private readonly byte[] _bsdInfo = new byte[MacProcessInfo.BsdInfoSize];
    private readonly byte[] _rusage = new byte[MacProcessInfo.RusageBufferSize];
    private int[] _children = new int[256];

    public MacProcessTable()
    {
        _nanosecondsPerMachUnit = LibSystem.mach_timebase_info(out var timebase) == 0 && timebase.Denom != 0
            ? (double)timebase.Numer / timebase.Denom
            : 1.0;
    }

    public bool IsSupported => true;

    public string MemoryMetricName => "physical footprint";

    /// <inheritdoc />
    public void Refresh()
    {
        // Reads are live on macOS: nothing to snapshot.
    }

    /// <inheritdoc />
    public bool TryCollectTree(ProcessIdentity root, List<ProcessUsage> into)
    {
        into.Clear();
        if (!TryReadBsdInfo(root.Pid, _bsdInfo, out var rootInfo) || rootInfo.Identity != root || rootInfo.IsZombie)
        {
            return false;
        }

        _pending.Clear();
        _pending.Enqueue(root.Pid);
        while (_pending.Count > 0)
        {
            var pid = _pending.Dequeue();
            if (!TryReadBsdInfo(pid, _bsdInfo, out var info) || info.IsZombie)
            {
                continue; // exited while we walked the tree
            }

            if (TryReadUsage(pid, out var cpu, out var footprint))
            {
                into.Add(new ProcessUsage(pid, info.ParentPid, info.Identity.StartTime, cpu, footprint));
            }

            var count = ListChildren(pid);
            for (var i = 0; i < count; i++)
            {
                if (_children[i] > 0 && _children[i] != pid)
                {
                    _pending.Enqueue(_children[i]);
                }
            }
        }

        return true;
    }

    /// <inheritdoc />
    public ProcessIdentity? Identify(int pid)
    {
        var buffer = new byte[MacProcessInfo.BsdInfoSize];
        return pid > 0 && TryReadBsdInfo(pid, buffer, out var info) && !info.IsZombie ? info.Identity : null;
    }

    /// <inheritdoc />
    public bool IsRunning(ProcessIdentity identity) => Identify(identity.Pid) == identity;

    /// <inheritdoc />
    public DateTimeOffset? GetStartTime(ProcessIdentity identity) =>
        IsRunning(identity) ? DateTimeOffset.FromUnixTimeMilliseconds(identity.StartTime / 1000) : null;

    private static bool TryReadBsdInfo(int pid, byte[] buffer, out MacProcessInfo info)
    {
        var written = LibSystem.proc_pidinfo(pid, LibSystem.PROC_PIDTBSDINFO, 0, buffer, buffer.Length);
        info = default;
        return written == MacProcessInfo.BsdInfoSize && MacProcessInfo.TryReadBsdInfo(buffer, pid, out info);
    }

    private bool TryReadUsage(int pid, out TimeSpan cpu, out long footprint)
    {
        cpu = default;
        footprint = 0;
        if (LibSystem.proc_pid_rusage(pid, LibSystem.RUSAGE_INFO_V2, _rusage) != 0)
        {
            return false;
        }

        var usage = MacProcessInfo.ReadRusage(_rusage);
        cpu = TimeSpan.FromTicks((long)((usage.UserMachUnits + usage.SystemMachUnits) * _nanosecondsPerMachUnit / 100));
        footprint = (long)usage.PhysFootprint;
        return true;
    }

    private int ListChildren(int pid)
    {
        while (true)
        {
            var bytes = LibSystem.proc_listpids(LibSystem.PROC_PPID_ONLY, (uint)pid, _children, _children.Length * sizeof(int));
            if (bytes <= 0)
            {
                return 0;
            }

            var count = bytes / sizeof(int);
            if (count < _children.Length)
            {
                return count;
            }

            _children = new int[_children.Length * 2]; // may have been cut short: ask again with room to spare
        }
    }
}

/// <summary>Byte layouts of the libproc structures read by <see cref="MacProcessTable"/>, kept apart so they can be tested anywhere.</summary>
internal readonly record struct MacProcessInfo(ProcessIdentity Identity, int ParentPid, uint Status)
{
    /// <summary><c>sizeof(struct proc_bsdinfo)</c>.</summary>
    public const int BsdInfoSize = 136;

    /// <summary>Room for <c>rusage_info_v2</c> (160 bytes) and later versions.</summary>
    public const int RusageBufferSize = 512;

    private const uint StatusZombie = 5; // SZOMB

    public bool IsZombie => Status == StatusZombie;

    /// <summary>Reads pbi_status (4), pbi_pid (12), pbi_ppid (16), pbi_start_tvsec (120) and pbi_start_tvusec (128).</summary>
    public static bool TryReadBsdInfo(ReadOnlySpan<byte> buffer, int expectedPid, out MacProcessInfo info)
    {
        info = default;
        if (buffer.Length < BsdInfoSize)
        {
            return false;
        }

        var status = BinaryPrimitives.ReadUInt32LittleEndian(buffer[4..]);
        var pid = (int)BinaryPrimitives.ReadUInt32LittleEndian(buffer[12..]);
        var ppid = (int)BinaryPrimitives.ReadUInt32LittleEndian(buffer[16..]);
        var seconds = BinaryPrimitives.ReadUInt64LittleEndian(buffer[120..]);
        var microseconds = BinaryPrimitives.ReadUInt64LittleEndian(buffer[128..]);
        if (pid != expectedPid)
        {
            return false;
        }

        info = new MacProcessInfo(new ProcessIdentity(pid, (long)((seconds * 1_000_000) + microseconds)), ppid, status);
        return true;
    }

    /// <summary>Reads ri_user_time (16), ri_system_time (24) and ri_phys_footprint (72) of <c>rusage_info_v2</c>.</summary>
    public static (ulong UserMachUnits, ulong SystemMachUnits, ulong PhysFootprint) ReadRusage(ReadOnlySpan<byte> buffer) => (
        BinaryPrimitives.ReadUInt64LittleEndian(buffer[16..]),
        BinaryPrimitives.ReadUInt64LittleEndian(buffer[24..]),
        BinaryPrimitives.ReadUInt64LittleEndian(buffer[72..]));
}

/// <summary>The libSystem calls used on macOS. Declared everywhere, called only on macOS.</summary>
internal static class LibSystem
{
    public const string Library = "/usr/lib/libSystem.B.dylib";
    public const uint PROC_PPID_ONLY = 6;
    public const int PROC_PIDTBSDINFO = 3;
    public const int RUSAGE_INFO_V2 = 2;
    public const int HOST_VM_INFO64 = 4;

    [DllImport(Library)]
    public static extern int proc_listpids(uint type, uint typeinfo, [In, Out] int[] buffer, int bufferSize);

    [DllImport(Library)]
    public static extern int proc_pidinfo(int pid, int flavor, ulong arg, [In, Out] byte[] buffer, int bufferSize);

    [DllImport(Library)]
    public static extern int proc_pid_rusage(int pid, int flavor, [In, Out] byte[] buffer);

    [DllImport(Library)]
    public static extern int mach_timebase_info(out MachTimebaseInfo info);

    [DllImport(Library)]
    public static extern uint mach_host_self();

    [DllImport(Library)]
    public static extern int host_statistics64(uint host, int flavor, [In, Out] int[] info, ref uint count);

    [DllImport(Library)]
    public static extern int host_page_size(uint host, out nuint pageSize);

    [DllImport(Library, EntryPoint = "sysctlbyname")]
    public static extern int sysctlbyname([MarshalAs(UnmanagedType.LPUTF8Str)] string name, ref ulong value, ref nuint size, IntPtr newValue, nuint newSize);

    [StructLayout(LayoutKind.Sequential)]
    public struct MachTimebaseInfo
    {
        public uint Numer;
        public uint Denom;
    }
}
