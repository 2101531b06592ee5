using MlxManager.Core.Discovery;
using MlxManager.Core.Platform;

namespace MlxManager.Core.Tests.Discovery;

public sealed class MemoryEstimatorTests
{
    private const long GiB = 1L << 30;

    private static readonly SystemMemory Mac32 = MacMemoryBudget.Compute(new MacMemoryReadings(32 * GiB, true, null, null));

    // Qwen3-4B-like: 147,456 bytes per token, full attention everywhere.
    private static readonly KvCacheEstimate Kv = new(147_456, 147_456, 0, null, 36, 36, 8, 128, 2, 40960, 147_456L * 40960, "test");

    [Fact]
    public void Estimate_SmallModel_Fits_WithTheNumbersBehindIt()
    {
        var estimate = MemoryEstimator.Estimate(8 * GiB, Kv, 32768, Mac32);

        estimate.Verdict.ShouldBe(MemoryVerdict.Fits);
        estimate.KvCacheBytes.ShouldBe(147_456L * 32768);
        estimate.OverheadBytes.ShouldBe(MemoryEstimator.BaseOverheadBytes + (long)(8 * GiB * 0.05));
        estimate.RequiredBytes.ShouldBe((8 * GiB) + (147_456L * 32768) + estimate.OverheadBytes);
        estimate.BudgetBytes.ShouldBe(32 * GiB * 2 / 3);
        estimate.Summary.ShouldStartWith("Fits: needs about 13.4 GiB (weights 8 GiB + KV cache 4.5 GiB at 32K tokens + overhead 922 MiB)");
        estimate.Summary.ShouldContain("21.3 GiB the GPU may use");
    }

    [Fact]
    public void Estimate_WithinTheLastTenPercent_IsTight()
    {
        var budget = Mac32.BudgetBytes;
        var weights = (long)((budget - MemoryEstimator.BaseOverheadBytes) / 1.05 * 0.95);

        var estimate = MemoryEstimator.Estimate(weights, null, 4096, Mac32);

        estimate.Verdict.ShouldBe(MemoryVerdict.Tight);
        estimate.Summary.ShouldStartWith("Tight:");
        estimate.Summary.ShouldContain("KV cache unknown");
    }

    [Fact]
    public void Estimate_BiggerThanTheBudget_WontFit()
    {
        var estimate = MemoryEstimator.Estimate(20 * GiB, Kv, 40960, Mac32);

        estimate.Verdict.ShouldBe(MemoryVerdict.WontFit);
        estimate.Summary.ShouldStartWith("Won't fit: needs about");
    }

    [Fact]
    public void Estimate_UnknownWeights_IsUnknown()
    {
        var estimate = MemoryEstimator.Estimate(null, Kv, 4096, Mac32);

        estimate.Verdict.ShouldBe(MemoryVerdict.Unknown);
        estimate.RequiredBytes.ShouldBeNull();
        estimate.Summary.ShouldStartWith("Unknown: the weight size is not known yet");
    }

    [Fact]
    public void Estimate_OnLinuxWithLittleAvailable_SaysSo()
    {
        var linux = new SystemMemory(16 * GiB, 2 * GiB, 16 * GiB, "Linux: MemTotal", "Linux");

        var estimate = MemoryEstimator.Estimate(4 * GiB, null, 4096, linux);

        estimate.Verdict.ShouldBe(MemoryVerdict.Fits);
        estimate.Summary.ShouldContain("of memory (Linux: MemTotal)");
        estimate.Summary.ShouldEndWith("Only 2 GiB is available right now.");
    }

    [Fact]
    public void Estimate_ForCharacteristics_CapsTheContextAtTheModels()
    {
        var model = new ModelCharacteristics
        {
            WeightBytes = new Sourced<long>(2 * GiB, "test"),
            KvCache = Kv,
            Context = new ContextWindow(40960, "test", null, null),
        };

        MemoryEstimator.Estimate(model, 1_000_000, Mac32).ContextTokens.ShouldBe(40960);
        MemoryEstimator.Estimate(model, null, Mac32).ContextTokens.ShouldBe(40960);
        MemoryEstimator.Estimate(model, 8192, Mac32).KvCacheBytes.ShouldBe(147_456L * 8192);
    }

    [Fact]
    public void Estimate_SlidingWindowModel_CapsSlidingLayers()
    {
        var gemmaLike = new KvCacheEstimate(139_264, 20_480, 118_784, 1024, 34, 34, 4, 256, 2, 131072, null, "test");

        var estimate = MemoryEstimator.Estimate(GiB, gemmaLike, 131072, Mac32);

        estimate.KvCacheBytes.ShouldBe((20_480L * 131072) + (118_784L * 1024));
    }
}
