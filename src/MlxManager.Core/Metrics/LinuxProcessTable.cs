using System.IO.Enumeration;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace MlxManager.Core.Metrics;

/// <summary>
/// Linux: one pass over <c>/proc/*/stat</c> per <see cref="Refresh"/> gives every process's parent, CPU
/// ticks, start time and resident pages; trees are then walked in memory. Clock ticks per second come from
/// <c>sysconf(_SC_CLK_TCK)</c>, never assumed. The scan reuses its buffers, so a tick allocates little
/// beyond one path string per process.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class LinuxProcessTable : IProcessTable
{
    private const int StatBufferSize = 1024;
    private readonly long _ticksPerSecond;
    private readonly long _pageSize;
    private readonly DateTimeOffset? _bootTime;
    private readonly string _procRoot;
    private readonly Dictionary<int, int> _indexByPid = new(1024);
    private readonly Stack<int> _pending = new();
    private readonly byte[] _statBuffer = new byte[StatBufferSize];
    private Entry[] _entries = new Entry[1024];
    private int _count;

    public LinuxProcessTable()
        : this("/proc")
    {
    }

    /// <summary>For tests: a different proc root.</summary>
    internal LinuxProcessTable(string procRoot)
    {
        _procRoot = procRoot;
        var ticks = Libc.sysconf(Libc.SC_CLK_TCK).Value;
        _ticksPerSecond = ticks > 0 ? ticks : throw new InvalidOperationException("sysconf(_SC_CLK_TCK) failed.");
        _pageSize = Environment.SystemPageSize;
        _bootTime = ReadBootTime(procRoot);
    }

    /// <summary>Clock ticks per second of this kernel (USER_HZ).</summary>
    public long TicksPerSecond => _ticksPerSecond;

    public bool IsSupported => true;

    public string MemoryMetricName => "resident memory (RSS)";

    /// <inheritdoc />
    public void Refresh()
    {
        _indexByPid.Clear();
        _count = 0;
        var enumeration = new FileSystemEnumerable<int>(
            _procRoot,
            (ref FileSystemEntry entry) => ParsePid(entry.FileName),
            new EnumerationOptions { RecurseSubdirectories = false, IgnoreInaccessible = true, AttributesToSkip = 0 })
        {
            ShouldIncludePredicate = (ref FileSystemEntry entry) => entry.IsDirectory && ParsePid(entry.FileName) > 0,
        };

        foreach (var pid in enumeration)
        {
            if (!TryReadStat(pid, _statBuffer, out var stat) || stat.IsGone)
            {
                continue; // exited between listing and reading, or a zombie: not part of any live tree
            }

            if (_count == _entries.Length)
            {
                Array.Resize(ref _entries, _entries.Length * 2);
            }

            _entries[_count] = new Entry(stat, FirstChild: -1, NextSibling: -1);
            _indexByPid[pid] = _count;
            _count++;
        }

        for (var i = 0; i < _count; i++)
        {
            ref var entry = ref _entries[i];
            if (_indexByPid.TryGetValue(entry.Stat.ParentPid, out var parent) && parent != i)
            {
                entry.NextSibling = _entries[parent].FirstChild;
                _entries[parent].FirstChild = i;
            }
        }
    }

    /// <inheritdoc />
    public bool TryCollectTree(ProcessIdentity root, List<ProcessUsage> into)
    {
        into.Clear();
        if (!_indexByPid.TryGetValue(root.Pid, out var rootIndex) || _entries[rootIndex].Stat.StartTicks != root.StartTime)
        {
            return false;
        }

        _pending.Clear();
        _pending.Push(rootIndex);
        while (_pending.Count > 0)
        {
            var index = _pending.Pop();
            var stat = _entries[index].Stat;
            into.Add(ToUsage(stat));
            for (var child = _entries[index].FirstChild; child >= 0; child = _entries[child].NextSibling)
            {
                _pending.Push(child);
            }
        }

        return true;
    }

    /// <inheritdoc />
    public ProcessIdentity? Identify(int pid)
    {
        Span<byte> buffer = stackalloc byte[StatBufferSize];
        return pid > 0 && TryReadStat(pid, buffer, out var stat) && !stat.IsGone
            ? new ProcessIdentity(pid, stat.StartTicks)
            : null;
    }

    /// <inheritdoc />
    public bool IsRunning(ProcessIdentity identity) => Identify(identity.Pid) == identity;

    /// <inheritdoc />
    public DateTimeOffset? GetStartTime(ProcessIdentity identity) =>
        IsRunning(identity) && _bootTime is { } boot
            ? boot.AddTicks(identity.StartTime * TimeSpan.TicksPerSecond / _ticksPerSecond)
            : null;

    private ProcessUsage ToUsage(in LinuxProcStat stat) => new(
        stat.Pid,
        stat.ParentPid,
        stat.StartTicks,
        TimeSpan.FromTicks((stat.UserTicks + stat.SystemTicks) * TimeSpan.TicksPerSecond / _ticksPerSecond),
        stat.RssPages * _pageSize);

    private bool TryReadStat(int pid, Span<byte> buffer, out LinuxProcStat stat)
    {
        var length = ProcFile.Read(string.Create(null, stackalloc char[32], $"{_procRoot}/{pid}/stat"), buffer);
        stat = default;
        return length > 0 && LinuxProcStat.TryParse(buffer[..length], out stat) && stat.Pid == pid;
    }

    private static int ParsePid(ReadOnlySpan<char> name)
    {
        if (name.IsEmpty || name.Length > 9)
        {
            return -1;
        }

        var pid = 0;
        foreach (var c in name)
        {
            if (!char.IsAsciiDigit(c))
            {
                return -1;
            }

            pid = (pid * 10) + (c - '0');
        }

        return pid;
    }

    private static DateTimeOffset? ReadBootTime(string procRoot)
    {
        var text = ProcFile.ReadText($"{procRoot}/stat");
        foreach (var line in (text ?? "").AsSpan().EnumerateLines())
        {
            if (line.StartsWith("btime ") && long.TryParse(line[6..].Trim(), out var seconds))
            {
                return DateTimeOffset.FromUnixTimeSeconds(seconds);
            }
        }

        return null;
    }

    private record struct Entry(LinuxProcStat Stat, int FirstChild, int NextSibling);
}

/// <summary>Reads small files under /proc, treating a vanished process as "no data" rather than an error.</summary>
internal static class ProcFile
{
    /// <summary>Reads up to <paramref name="buffer"/>'s length; -1 when the file (or its process) is gone.</summary>
    public static int Read(string path, Span<byte> buffer)
    {
        try
        {
            using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            return RandomAccess.Read(handle, buffer, 0);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or UnauthorizedAccessException or IOException)
        {
            // The process exited between listing and reading (ENOENT/ESRCH), or /proc hides it from us:
            // either way it has nothing to report, which the caller handles as "gone".
            return -1;
        }
    }

    /// <summary>The whole text of a /proc file, or null when it cannot be read.</summary>
    public static string? ReadText(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or UnauthorizedAccessException or IOException)
        {
            // Same as above: an unreadable file means the figure is unavailable, shown as "n/a".
            return null;
        }
    }
}

/// <summary>The few libc calls the Linux sampler needs.</summary>
internal static partial class Libc
{
    /// <summary><c>_SC_CLK_TCK</c> on Linux (glibc and musl).</summary>
    public const int SC_CLK_TCK = 2;

    [DllImport("libc", EntryPoint = "sysconf")]
    public static extern CLong sysconf(int name);
}
