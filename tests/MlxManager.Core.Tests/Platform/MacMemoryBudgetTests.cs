using MlxManager.Core.Platform;

namespace MlxManager.Core.Tests.Platform;

public sealed class MacMemoryBudgetTests
{
    private const long GiB = 1L << 30;

    [Fact]
    public void Compute_16GiBWithoutMetalOrOverride_IsTwoThirds()
    {
        var memory = MacMemoryBudget.Compute(new MacMemoryReadings(16 * GiB, true, 0, null));

        memory.TotalBytes.ShouldBe(16 * GiB);
        memory.BudgetBytes.ShouldBe(16 * GiB * 2 / 3);
        memory.BudgetRule.ShouldContain("2/3 of RAM");
        memory.Platform.ShouldBe("macOS (Apple Silicon)");
        memory.AvailableBytes.ShouldBeNull();
    }

    [Fact]
    public void Compute_36GiB_IsStillTheSmallMachineRule()
    {
        MacMemoryBudget.Compute(new MacMemoryReadings(36 * GiB, true, null, null)).BudgetBytes.ShouldBe(24 * GiB);
    }

    [Fact]
    public void Compute_64GiB_IsThreeQuarters()
    {
        var memory = MacMemoryBudget.Compute(new MacMemoryReadings(64 * GiB, true, null, null));

        memory.BudgetBytes.ShouldBe(48 * GiB);
        memory.BudgetRule.ShouldContain("3/4 of RAM");
    }

    [Fact]
    public void Compute_MetalFigure_WinsOverEverything()
    {
        var metal = (long)(107.52 * GiB);

        var memory = MacMemoryBudget.Compute(new MacMemoryReadings(128 * GiB, true, 0, metal));

        memory.BudgetBytes.ShouldBe(metal);
        memory.BudgetRule.ShouldBe("GPU working set recommended by Metal (recommendedMaxWorkingSetSize), 84 % of RAM");
    }

    [Fact]
    public void Compute_WiredLimitOverride_IsUsedWhenMetalIsUnavailable()
    {
        var memory = MacMemoryBudget.Compute(new MacMemoryReadings(32 * GiB, true, 26000, null));

        memory.BudgetBytes.ShouldBe(26000L << 20);
        memory.BudgetRule.ShouldContain("iogpu.wired_limit_mb = 26000");
    }

    [Fact]
    public void Compute_WiredLimitAboveRam_IsCappedAtRam()
    {
        MacMemoryBudget.Compute(new MacMemoryReadings(16 * GiB, true, 64000, null)).BudgetBytes.ShouldBe(16 * GiB);
    }

    [Fact]
    public void Compute_IntelMac_UsesPhysicalMemory()
    {
        var memory = MacMemoryBudget.Compute(new MacMemoryReadings(32 * GiB, false, null, null));

        memory.BudgetBytes.ShouldBe(32 * GiB);
        memory.Platform.ShouldBe("macOS (Intel)");
    }

    [Fact]
    public void MacProbe_OffMacOs_RefusesClearly()
    {
        if (OperatingSystem.IsMacOS())
        {
            new MacSystemMemoryProbe().Read().TotalBytes.ShouldBeGreaterThan(0);
            return;
        }

        Should.Throw<PlatformNotSupportedException>(() => new MacSystemMemoryProbe().Read());
    }
}
