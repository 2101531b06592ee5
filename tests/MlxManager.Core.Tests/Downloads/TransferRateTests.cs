using MlxManager.Core.Downloads;

namespace MlxManager.Core.Tests.Downloads;

public sealed class TransferRateTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 26, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Sample_SteadyTransfer_ConvergesOnItsRateAndGivesAnEta()
    {
        var rate = new TransferRate();
        for (var tick = 0; tick <= 40; tick++)
        {
            rate.Sample(tick * 5_000_000L, Start.AddSeconds(tick * 0.5));
        }

        rate.BytesPerSecond.ShouldBe(10_000_000, tolerance: 1);
        rate.Eta(50_000_000).ShouldBe(TimeSpan.FromSeconds(5));
        rate.Eta(0).ShouldBe(TimeSpan.Zero);
    }

    [Fact]
    public void Sample_OneStalledTick_MovesTheRateOnlyPartWay()
    {
        var rate = new TransferRate(TimeSpan.FromSeconds(3));
        for (var tick = 0; tick <= 20; tick++)
        {
            rate.Sample(tick * 5_000_000L, Start.AddSeconds(tick * 0.5));
        }

        rate.Sample(20 * 5_000_000L, Start.AddSeconds(10.5));

        rate.BytesPerSecond.ShouldBeInRange(8_000_000, 9_000_000, "smoothed: one empty half-second lowers it by about a sixth");
    }

    [Fact]
    public void Eta_BeforeTwoSamples_IsUnknown()
    {
        var rate = new TransferRate();
        rate.Sample(1000, Start);

        rate.Eta(1000).ShouldBeNull();
    }
}
