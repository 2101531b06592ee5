using System.Buffers.Binary;
using MlxManager.Core.Metrics;

namespace MlxManager.Core.Tests.Metrics;

public class SystemMemoryTests
{
    private const string MemInfo = """
        MemTotal:       24683648 kB
        MemFree:        22870184 kB
        MemAvailable:   24220312 kB
        Buffers:           93364 kB
        Cached:          1459772 kB
        SwapCached:            0 kB
        HugePages_Total:       0
        Hugepagesize:       2048 kB
        """;

    [Fact]
    public void ParseMemInfo_CountsUsedAsTotalMinusAvailable()
    {
        var memory = LinuxSystemMemoryProbe.ParseMemInfo(MemInfo).ShouldNotBeNull();

        memory.TotalBytes.ShouldBe(24683648L * 1024);
        memory.UsedBytes.ShouldBe((24683648L - 24220312L) * 1024);
        memory.UsedFraction.ShouldBe(0.0188, tolerance: 0.0001);
    }

    [Fact]
    public void ParseMemInfo_OnOldKernelsWithoutMemAvailable_FallsBackToFreePlusCaches()
    {
        var memory = LinuxSystemMemoryProbe.ParseMemInfo("MemTotal: 1000 kB\nMemFree: 300 kB\nBuffers: 100 kB\nCached: 200 kB\n").ShouldNotBeNull();

        memory.UsedBytes.ShouldBe(400L * 1024);
    }

    [Fact]
    public void ParseMemInfo_WithoutATotal_IsUnknown()
    {
        LinuxSystemMemoryProbe.ParseMemInfo("MemFree: 1 kB").ShouldBeNull();
    }

    [LinuxFact]
    public void Read_OnLinux_ReportsThisMachine()
    {
        var memory = new LinuxSystemMemoryProbe().Read().ShouldNotBeNull();

        memory.TotalBytes.ShouldBeGreaterThan(0);
        memory.UsedBytes.ShouldBeInRange(1, memory.TotalBytes);
        memory.TotalBytes.ShouldBeGreaterThanOrEqualTo(GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 2);
    }

    [Fact]
    public void UsedBytesFromVmStatistics_CountsLikeActivityMonitor()
    {
        var raw = new byte[152];
        BinaryPrimitives.WriteUInt32LittleEndian(raw.AsSpan(0), 1000);    // free
        BinaryPrimitives.WriteUInt32LittleEndian(raw.AsSpan(4), 50_000);  // active
        BinaryPrimitives.WriteUInt32LittleEndian(raw.AsSpan(8), 40_000);  // inactive
        BinaryPrimitives.WriteUInt32LittleEndian(raw.AsSpan(12), 20_000); // wire
        BinaryPrimitives.WriteUInt32LittleEndian(raw.AsSpan(88), 5_000);  // purgeable
        BinaryPrimitives.WriteUInt32LittleEndian(raw.AsSpan(128), 7_000); // compressor
        BinaryPrimitives.WriteUInt32LittleEndian(raw.AsSpan(140), 60_000); // internal

        // App memory (internal − purgeable) + wired + compressed, in 16 KiB pages.
        MacSystemMemoryProbe.UsedBytesFromVmStatistics(raw, 16384).ShouldBe((60_000L - 5_000 + 20_000 + 7_000) * 16384);
    }
}

public class MacProcessInfoTests
{
    [Fact]
    public void TryReadBsdInfo_ReadsPidParentStatusAndStartTimeAtTheirOffsets()
    {
        var raw = new byte[136];
        BinaryPrimitives.WriteUInt32LittleEndian(raw.AsSpan(4), 2);     // SRUN
        BinaryPrimitives.WriteUInt32LittleEndian(raw.AsSpan(12), 4321); // pid
        BinaryPrimitives.WriteUInt32LittleEndian(raw.AsSpan(16), 1);    // ppid
        BinaryPrimitives.WriteUInt64LittleEndian(raw.AsSpan(120), 1_767_225_600); // 2026-01-01
        BinaryPrimitives.WriteUInt64LittleEndian(raw.AsSpan(128), 250_000);

        MacProcessInfo.TryReadBsdInfo(raw, 4321, out var info).ShouldBeTrue();

        info.Identity.ShouldBe(new ProcessIdentity(4321, 1_767_225_600_250_000));
        info.ParentPid.ShouldBe(1);
        info.IsZombie.ShouldBeFalse();
        MacProcessInfo.TryReadBsdInfo(raw, 999, out _).ShouldBeFalse("the buffer describes another process");
    }

    [Fact]
    public void TryReadBsdInfo_RecognisesZombies()
    {
        var raw = new byte[136];
        BinaryPrimitives.WriteUInt32LittleEndian(raw.AsSpan(4), 5); // SZOMB
        BinaryPrimitives.WriteUInt32LittleEndian(raw.AsSpan(12), 7);

        MacProcessInfo.TryReadBsdInfo(raw, 7, out var info).ShouldBeTrue();

        info.IsZombie.ShouldBeTrue();
    }

    [Fact]
    public void ReadRusage_ReadsCpuTimesAndPhysicalFootprint()
    {
        var raw = new byte[512];
        BinaryPrimitives.WriteUInt64LittleEndian(raw.AsSpan(16), 24_000_000);      // user, Mach units
        BinaryPrimitives.WriteUInt64LittleEndian(raw.AsSpan(24), 6_000_000);       // system
        BinaryPrimitives.WriteUInt64LittleEndian(raw.AsSpan(64), 400L << 20);      // resident (not used)
        BinaryPrimitives.WriteUInt64LittleEndian(raw.AsSpan(72), 16L << 30);       // physical footprint

        MacProcessInfo.ReadRusage(raw).ShouldBe((24_000_000UL, 6_000_000UL, 16UL << 30));
    }
}
