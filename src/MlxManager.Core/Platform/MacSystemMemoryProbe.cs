using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace MlxManager.Core.Platform;

/// <summary>Raw macOS readings the budget is computed from (injectable for tests).</summary>
/// <param name="PhysicalBytes"><c>sysctl hw.memsize</c>.</param>
/// <param name="AppleSilicon"><c>sysctl hw.optional.arm64</c> = 1.</param>
/// <param name="WiredLimitMb"><c>sysctl iogpu.wired_limit_mb</c>; 0 or null when not overridden.</param>
/// <param name="MetalRecommendedWorkingSetBytes"><c>MTLDevice.recommendedMaxWorkingSetSize</c> of the default device, when it could be queried.</param>
public sealed record MacMemoryReadings(long PhysicalBytes, bool AppleSilicon, long? WiredLimitMb, long? MetalRecommendedWorkingSetBytes);

/// <summary>
/// The GPU memory budget on a Mac. On Apple Silicon the GPU shares RAM but Metal only lets it wire part of it:
/// <list type="number">
/// <item>Metal's own figure (<c>recommendedMaxWorkingSetSize</c>) when it can be queried: it already reflects an
/// <c>iogpu.wired_limit_mb</c> override and the OS version's rule.</item>
/// <item>else a non-zero <c>iogpu.wired_limit_mb</c> (the administrator's override, in MiB).</item>
/// <item>else the default rule observed on macOS 13–15: about 2/3 of RAM up to 36 GiB, 3/4 above
/// (16 GiB → 10.67 GiB; 64 GiB → 48 GiB). macOS 26 has been seen allowing more (~84 % on 128 GiB), so this
/// rule errs on the safe side.</item>
/// </list>
/// </summary>
public static class MacMemoryBudget
{
    public const long SmallMachineLimit = 36L << 30;

    public static SystemMemory Compute(MacMemoryReadings readings)
    {
        ArgumentNullException.ThrowIfNull(readings);
        var total = readings.PhysicalBytes;
        if (!readings.AppleSilicon)
        {
            return new SystemMemory(total, null, total, "Intel Mac: physical memory (MLX needs Apple Silicon)", "macOS (Intel)");
        }

        const string Platform = "macOS (Apple Silicon)";
        if (readings.MetalRecommendedWorkingSetBytes is { } metal and > 0)
        {
            return new SystemMemory(total, null, Math.Min(metal, total), $"GPU working set recommended by Metal (recommendedMaxWorkingSetSize), {Percent(metal, total)} of RAM", Platform);
        }

        if (readings.WiredLimitMb is { } wired and > 0)
        {
            var bytes = Math.Min(wired << 20, total);
            return new SystemMemory(total, null, bytes, $"GPU wired-memory limit sysctl iogpu.wired_limit_mb = {wired}", Platform);
        }

        var (budget, rule) = total <= SmallMachineLimit
            ? (total * 2 / 3, "2/3 of RAM on machines up to 36 GB")
            : (total * 3 / 4, "3/4 of RAM on machines over 36 GB");
        return new SystemMemory(total, null, budget, $"Apple Silicon default GPU working set: {rule}; Metal was not queried", Platform);
    }

    private static string Percent(long part, long whole) => whole <= 0 ? "?" : $"{part * 100.0 / whole:0} %";
}

/// <summary>macOS: physical memory via <c>sysctlbyname</c>, the GPU working set via Metal (P/Invoke; compiles everywhere, runs only on macOS).</summary>
public sealed partial class MacSystemMemoryProbe : ISystemMemoryProbe
{
    private const string LibSystem = "/usr/lib/libSystem.B.dylib";
    private const string LibObjC = "/usr/lib/libobjc.A.dylib";
    private const string Metal = "/System/Library/Frameworks/Metal.framework/Metal";

    private readonly ILogger _logger;
    private readonly Lazy<long?> _metalWorkingSet;

    public MacSystemMemoryProbe(ILogger<MacSystemMemoryProbe>? logger = null)
    {
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        // Creating a Metal device costs a few milliseconds; the figure only changes with a sysctl override.
        _metalWorkingSet = new Lazy<long?>(ReadMetalWorkingSet);
    }

    public SystemMemory Read()
    {
        if (!OperatingSystem.IsMacOS())
        {
            throw new PlatformNotSupportedException("MacSystemMemoryProbe runs on macOS only");
        }

        var physical = ReadSysctl("hw.memsize") ?? throw new InvalidOperationException("sysctl hw.memsize failed");
        var arm64 = ReadSysctl("hw.optional.arm64") == 1;
        var wired = ReadSysctl("iogpu.wired_limit_mb");
        return MacMemoryBudget.Compute(new MacMemoryReadings(physical, arm64, wired, arm64 ? _metalWorkingSet.Value : null));
    }

    /// <summary>An integer sysctl (4 or 8 bytes), or null when the name does not exist on this Mac.</summary>
    private static long? ReadSysctl(string name)
    {
        nint length = 0;
        if (SysctlByName(name, null, ref length, IntPtr.Zero, 0) != 0 || length is not (4 or 8))
        {
            return null;
        }

        var buffer = new byte[length];
        if (SysctlByName(name, buffer, ref length, IntPtr.Zero, 0) != 0)
        {
            return null;
        }

        return length == 8 ? BinaryPrimitives.ReadInt64LittleEndian(buffer) : BinaryPrimitives.ReadInt32LittleEndian(buffer);
    }

    private long? ReadMetalWorkingSet()
    {
        try
        {
            var device = MTLCreateSystemDefaultDevice();
            if (device == IntPtr.Zero)
            {
                return null;
            }

            try
            {
                var size = SendUInt64(device, SelRegisterName("recommendedMaxWorkingSetSize"));
                return size is > 0 and <= long.MaxValue ? (long)size : null;
            }
            finally
            {
                SendVoid(device, SelRegisterName("release"));
            }
        }
        catch (Exception exception) when (exception is DllNotFoundException or EntryPointNotFoundException or MarshalDirectiveException)
        {
            LogMetalUnavailable(_logger, exception);
            return null;
        }
    }

    [DllImport(LibSystem, EntryPoint = "sysctlbyname", SetLastError = true)]
    private static extern int SysctlByName([MarshalAs(UnmanagedType.LPUTF8Str)] string name, byte[]? oldp, ref nint oldlenp, IntPtr newp, nint newlen);

    [DllImport(Metal)]
    private static extern IntPtr MTLCreateSystemDefaultDevice();

    [DllImport(LibObjC, EntryPoint = "sel_registerName")]
    private static extern IntPtr SelRegisterName([MarshalAs(UnmanagedType.LPUTF8Str)] string name);

    [DllImport(LibObjC, EntryPoint = "objc_msgSend")]
    private static extern ulong SendUInt64(IntPtr receiver, IntPtr selector);

    [DllImport(LibObjC, EntryPoint = "objc_msgSend")]
    private static extern void SendVoid(IntPtr receiver, IntPtr selector);

    [LoggerMessage(Level = LogLevel.Information, Message = "Metal could not be queried for the GPU working set; using sysctl and the default rule")]
    private static partial void LogMetalUnavailable(ILogger logger, Exception exception);
}
