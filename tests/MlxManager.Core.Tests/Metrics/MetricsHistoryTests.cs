using MlxManager.Core.Metrics;

namespace MlxManager.Core.Tests.Metrics;

public class MetricsHistoryTests
{
    private static readonly DateTimeOffset T0 = new(2026, 5, 1, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void For_FiveMinutesEveryTwoSeconds_Holds150Points()
    {
        MetricsHistory.For(TimeSpan.FromMinutes(5), TimeSpan.FromSeconds(2)).Capacity.ShouldBe(150);
        MetricsHistory.For(TimeSpan.FromMinutes(5), TimeSpan.FromSeconds(1)).Capacity.ShouldBe(300);
    }

    [Fact]
    public void Add_BeyondCapacity_DropsTheOldestFirst()
    {
        var history = new MetricsHistory(3);
        for (var i = 0; i < 5; i++)
        {
            history.Add(Point(i, cpu: i));
        }

        history.Count.ShouldBe(3);
        history.ToArray().Select(p => p.CpuPercent).ShouldBe([2.0, 3.0, 4.0]);
        history.Latest.ShouldNotBeNull().CpuPercent.ShouldBe(4);
    }

    [Fact]
    public void CopyTo_AShortDestination_KeepsTheNewest()
    {
        var history = new MetricsHistory(5);
        for (var i = 0; i < 4; i++)
        {
            history.Add(Point(i, cpu: i));
        }

        var buffer = new MetricsPoint[2];
        history.CopyTo(buffer).ShouldBe(2);

        buffer.Select(p => p.CpuPercent).ShouldBe([2.0, 3.0]);
    }

    [Fact]
    public void Latest_WhenEmpty_IsNull()
    {
        new MetricsHistory(2).Latest.ShouldBeNull();
    }

    [Fact]
    public void ToSparkline_AnchorsTheNewestPointAtTheRightAndScalesToMax()
    {
        var history = new MetricsHistory(5);
        history.Add(Point(0, cpu: 0));
        history.Add(Point(1, cpu: null));
        history.Add(Point(2, cpu: 100));
        history.Add(Point(3, cpu: 250));

        // 5 slots over 100 px: x = 25, (50 skipped: no value), 75, 100; y flips so 0 % is the bottom.
        history.ToSparkline(p => p.CpuPercent, max: 200, width: 100, height: 20).ShouldBe("25,20 75,10 100,0");
    }

    [Fact]
    public void ToSparkline_OfMemory_UsesTheSelectedSeries()
    {
        var history = new MetricsHistory(2);
        history.Add(Point(0, cpu: 1, memory: 512));
        history.Add(Point(1, cpu: 1, memory: 1024));

        history.ToSparkline(p => p.MemoryBytes, max: 1024, width: 10, height: 10).ShouldBe("0,5 10,0");
    }

    private static MetricsPoint Point(int second, double? cpu, long memory = 0) => new(T0.AddSeconds(second), cpu, memory, null);
}
