using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace MlxManager.Core.Metrics;

/// <summary>The machine's memory, for the "system memory bar".</summary>
/// <param name="TotalBytes">Physical memory installed.</param>
/// <param name="UsedBytes">Memory in use by everything (not available to new allocations without reclaiming).</param>
public sealed record SystemMemory(long TotalBytes, long UsedBytes)
{
    /// <summary>Used as a fraction of total, 0–1.</summary>
    public double UsedFraction => TotalBytes > 0 ? Math.Clamp((double)UsedBytes / TotalBytes, 0, 1) : 0;
}

/// <summary>Reads the machine's memory use; null when the platform does not tell.</summary>
public interface ISystemMemoryProbe
{
    SystemMemory? Read();
}

/// <summary>Chooses the system memory probe for the platform the manager runs on.</summary>
public static class SystemMemoryProbe
{
    public static ISystemMemoryProbe ForCurrentPlatform() =>
        OperatingSystem.IsLinux() ? new LinuxSystemMemoryProbe()
        : OperatingSystem.IsMacOS() ? new MacSystemMemoryProbe()
        : new UnavailableSystemMemoryProbe();
}

/// <summary>For platforms without an implementation.</summary>
public sealed class UnavailableSystemMemoryProbe : ISystemMemoryProbe
{
    public SystemMemory? Read() => null;
}

/// <summary>Linux: <c>/proc/meminfo</c>, used = MemTotal − MemAvailable (what <c>free</c> calls used, cache excluded).</summary>
public sealed class LinuxSystemMemoryProbe(string path = "/proc/meminfo") : ISystemMemoryProbe
{
    public SystemMemory? Read()
    {
        Span<byte> buffer = stackalloc byte[4096];
        var length = ProcFile.Read(path, buffer);
        return length > 0 ? ParseMemInfo(System.Text.Encoding.ASCII.GetString(buffer[..length])) : null;
    }

    /// <summary>Parses meminfo text; MemAvailable falls back to MemFree + Buffers + Cached on kernels without it.</summary>
    public static SystemMemory? ParseMemInfo(string text)
    {
        long? total = null, available = null, free = null, buffers = null, cached = null;
        foreach (var line in text.AsSpan().EnumerateLines())
        {
            var colon = line.IndexOf(':');
            if (colon <= 0)
            {
                continue;
            }

            var value = line[(colon + 1)..].Trim();
            var unitAt = value.IndexOf(' ');
            var number = unitAt < 0 ? value : value[..unitAt];
            var multiplier = unitAt >= 0 && value[(unitAt + 1)..].Trim() is "kB" ? 1024L : 1L;
            if (!long.TryParse(number, out var amount))
            {
                continue;
            }

            amount *= multiplier;
            switch (line[..colon])
            {
                case "MemTotal": total = amount; break;
                case "MemAvailable": available = amount; break;
                case "MemFree": free = amount; break;
                case "Buffers": buffers = amount; break;
                case "Cached": cached = amount; break;
            }
        }

        if (total is not { } t || t <= 0)
        {
            return null;
        }

        var avail = available ?? (free is { } f ? f + (buffers ?? 0) + (cached ?? 0) : (long?)null);
        return avail is { } a ? new SystemMemory(t, Math.Clamp(t - a, 0, t)) : null;
    }
}

/// <summary>
/// macOS: total from <c>sysctl hw.memsize</c>; used from <c>host_statistics64(HOST_VM_INFO64)</c> as Activity
/// Monitor counts "Memory Used": app memory (internal − purgeable pages) + wired + compressed pages.
/// </summary>
public sealed class MacSystemMemoryProbe : ISystemMemoryProbe
{
    private uint _host;
    private long _pageSize;

    public SystemMemory? Read()
    {
        if (!OperatingSystem.IsMacOS())
        {
            return null;
        }

        return ReadMac();
    }

    /// <summary>Memory used from raw <c>vm_statistics64</c> bytes, as Activity Monitor counts it.</summary>
    public static long UsedBytesFromVmStatistics(ReadOnlySpan<byte> vmStatistics64, long pageSize)
    {
        var stats = MacVmStatistics.Read(vmStatistics64);
        var appPages = Math.Max(0L, (long)stats.InternalPages - stats.PurgeablePages);
        return (appPages + stats.WirePages + stats.CompressorPages) * pageSize;
    }

    [SupportedOSPlatform("macos")]
    private SystemMemory? ReadMac()
    {
        ulong total = 0;
        nuint size = sizeof(ulong);
        if (LibSystem.sysctlbyname("hw.memsize", ref total, ref size, IntPtr.Zero, 0) != 0 || total == 0)
        {
            return null;
        }

        if (_host == 0)
        {
            _host = LibSystem.mach_host_self(); // one send right for the probe's lifetime, not one per read
            _pageSize = LibSystem.host_page_size(_host, out var pageSize) == 0 && pageSize > 0 ? (long)pageSize : Environment.SystemPageSize;
        }

        var raw = new int[MacVmStatistics.Count];
        var count = (uint)MacVmStatistics.Count;
        if (LibSystem.host_statistics64(_host, LibSystem.HOST_VM_INFO64, raw, ref count) != 0)
        {
            return null;
        }

        var used = UsedBytesFromVmStatistics(MemoryMarshal.AsBytes(raw.AsSpan()), _pageSize);
        return new SystemMemory((long)total, Math.Clamp(used, 0, (long)total));
    }
}

/// <summary>The fields of <c>struct vm_statistics64</c> (152 bytes) that memory-used needs, by byte offset.</summary>
internal readonly record struct MacVmStatistics(uint FreePages, uint ActivePages, uint InactivePages, uint WirePages, uint PurgeablePages, uint CompressorPages, uint InternalPages)
{
    public const int Size = 152;

    /// <summary><c>HOST_VM_INFO64_COUNT</c>: the size in 32-bit words.</summary>
    public const int Count = Size / sizeof(int);

    public static MacVmStatistics Read(ReadOnlySpan<byte> bytes) => new(
        BinaryPrimitives.ReadUInt32LittleEndian(bytes[0..]),
        BinaryPrimitives.ReadUInt32LittleEndian(bytes[4..]),
        BinaryPrimitives.ReadUInt32LittleEndian(bytes[8..]),
        BinaryPrimitives.ReadUInt32LittleEndian(bytes[12..]),
        BinaryPrimitives.ReadUInt32LittleEndian(bytes[88..]),
        BinaryPrimitives.ReadUInt32LittleEndian(bytes[128..]),
        BinaryPrimitives.ReadUInt32LittleEndian(bytes[140..]));
}
