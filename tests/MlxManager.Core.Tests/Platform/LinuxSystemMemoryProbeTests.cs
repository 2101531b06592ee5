using MlxManager.Core.Platform;
using MlxManager.Core.Tests.Library;

namespace MlxManager.Core.Tests.Platform;

public sealed class LinuxSystemMemoryProbeTests
{
    private const string Meminfo = """
        MemTotal:       16318440 kB
        MemFree:         1204044 kB
        MemAvailable:    9876543 kB
        Buffers:          612344 kB
        """;

    [Fact]
    public void FromMeminfo_UsesMemTotalAsBudget_AndShowsMemAvailable()
    {
        var memory = LinuxSystemMemoryProbe.FromMeminfo(Meminfo);

        memory.TotalBytes.ShouldBe(16318440L * 1024);
        memory.BudgetBytes.ShouldBe(16318440L * 1024);
        memory.AvailableBytes.ShouldBe(9876543L * 1024);
        memory.BudgetRule.ShouldContain("MemTotal");
        memory.Platform.ShouldBe("Linux");
    }

    [Fact]
    public void FromMeminfo_WithoutMemAvailable_LeavesItUnknown()
    {
        LinuxSystemMemoryProbe.FromMeminfo("MemTotal: 1000 kB\n").AvailableBytes.ShouldBeNull();
    }

    [Fact]
    public void FromMeminfo_WithoutMemTotal_FailsClearly()
    {
        Should.Throw<FormatException>(() => LinuxSystemMemoryProbe.FromMeminfo("MemFree: 1 kB\n")).Message.ShouldContain("MemTotal");
    }

    [Fact]
    public void Read_FromAFile_ParsesIt()
    {
        using var folder = new TemporaryDirectory();
        var path = folder.WriteText("meminfo", Meminfo);

        new LinuxSystemMemoryProbe(path).Read().AvailableBytes.ShouldBe(9876543L * 1024);
    }

    [Fact]
    public void ForCurrentPlatform_OnThisMachine_ReadsRealMemory()
    {
        var probe = SystemMemoryProbes.ForCurrentPlatform();
        if (OperatingSystem.IsLinux())
        {
            probe.ShouldBeOfType<LinuxSystemMemoryProbe>();
        }

        var memory = probe.Read();
        memory.TotalBytes.ShouldBeGreaterThan(1L << 28);
        memory.BudgetBytes.ShouldBeInRange(1L << 28, memory.TotalBytes);
    }
}
