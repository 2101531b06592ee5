using Microsoft.Extensions.Time.Testing;
using MlxManager.Core.Metrics;

namespace MlxManager.Core.Tests.Metrics;

/// <summary>The CPU arithmetic, with a scripted process table and clock.</summary>
public class ProcessTreeSamplerTests
{
    private static readonly ProcessIdentity Root = new(100, 5000);

    [Fact]
    public void Sample_ComputesCpuAsTreeTimeGrowthOverWallTime()
    {
        var table = new ScriptedTable();
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 5, 1, 12, 0, 0, TimeSpan.Zero));
        var sampler = new ProcessTreeSampler(table, Root, clock);
        table.Set(Usage(100, 1, cpuSeconds: 10, memory: 100), Usage(101, 100, cpuSeconds: 5, memory: 50));

        var first = sampler.Sample();
        clock.Advance(TimeSpan.FromSeconds(2));
        table.Set(Usage(100, 1, cpuSeconds: 11, memory: 100), Usage(101, 100, cpuSeconds: 8, memory: 70));
        var second = sampler.Sample();

        first.CpuPercent.ShouldBeNull();
        first.ProcessCount.ShouldBe(2);
        first.MemoryBytes.ShouldBe(150);
        second.CpuPercent.ShouldBe(200, "4 s of processor time in 2 s of wall time is two cores");
        second.MemoryBytes.ShouldBe(170);
        second.CpuTime.ShouldBe(TimeSpan.FromSeconds(19));
    }

    [Fact]
    public void Sample_WhenAChildAppears_CountsAllItsTimeAsSpentSinceTheLastSample()
    {
        var table = new ScriptedTable();
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 5, 1, 12, 0, 0, TimeSpan.Zero));
        var sampler = new ProcessTreeSampler(table, Root, clock);
        table.Set(Usage(100, 1, cpuSeconds: 1));
        sampler.Sample();

        clock.Advance(TimeSpan.FromSeconds(1));
        table.Set(Usage(100, 1, cpuSeconds: 1), Usage(102, 100, cpuSeconds: 0.5));

        sampler.Sample().CpuPercent.ShouldBe(50);
    }

    [Fact]
    public void Sample_WhenAChildExits_NeverGoesNegative()
    {
        var table = new ScriptedTable();
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 5, 1, 12, 0, 0, TimeSpan.Zero));
        var sampler = new ProcessTreeSampler(table, Root, clock);
        table.Set(Usage(100, 1, cpuSeconds: 1), Usage(101, 100, cpuSeconds: 30));
        sampler.Sample();

        clock.Advance(TimeSpan.FromSeconds(1));
        table.Set(Usage(100, 1, cpuSeconds: 1.25));

        sampler.Sample().CpuPercent.ShouldBe(25);
    }

    [Fact]
    public void Sample_WhenAPidIsReusedInsideTheTree_TreatsItAsANewProcess()
    {
        var table = new ScriptedTable();
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 5, 1, 12, 0, 0, TimeSpan.Zero));
        var sampler = new ProcessTreeSampler(table, Root, clock);
        table.Set(Usage(100, 1, cpuSeconds: 1), Usage(101, 100, cpuSeconds: 30, start: 1));
        sampler.Sample();

        clock.Advance(TimeSpan.FromSeconds(1));
        table.Set(Usage(100, 1, cpuSeconds: 1), Usage(101, 100, cpuSeconds: 0.1, start: 2));

        sampler.Sample().CpuPercent.ShouldNotBeNull().ShouldBe(10, tolerance: 1e-9);
    }

    [Fact]
    public void Sample_WhenTheRootIsGone_SaysSoAndStartsOverWhenItIsBack()
    {
        var table = new ScriptedTable();
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 5, 1, 12, 0, 0, TimeSpan.Zero));
        var sampler = new ProcessTreeSampler(table, Root, clock);
        table.Set(Usage(100, 1, cpuSeconds: 1));
        sampler.Sample();

        table.Set();
        sampler.Sample().ShouldBe(ProcessTreeSample.Gone);

        clock.Advance(TimeSpan.FromSeconds(1));
        table.Set(Usage(100, 1, cpuSeconds: 2));
        sampler.Sample().CpuPercent.ShouldBeNull();
    }

    [Fact]
    public void Sample_ReusesOneSamplerAcrossPolls_SoCpuIsNeverStuckAtZero()
    {
        var table = new ScriptedTable();
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 5, 1, 12, 0, 0, TimeSpan.Zero));
        var sampler = new ProcessTreeSampler(table, Root, clock);
        var readings = new List<double?>();
        for (var second = 0; second < 5; second++)
        {
            table.Set(Usage(100, 1, cpuSeconds: second * 0.8));
            readings.Add(sampler.Sample().CpuPercent);
            clock.Advance(TimeSpan.FromSeconds(1));
        }

        readings.Skip(1).ShouldAllBe(r => r != null && Math.Abs(r.Value - 80) < 1e-9);
    }

    [Fact]
    public void Sample_TooSoonAfterTheLast_RepeatsTheLastFigureAndMeasuresTheNextOverTheWholeWindow()
    {
        var table = new ScriptedTable();
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 5, 1, 12, 0, 0, TimeSpan.Zero));
        var sampler = new ProcessTreeSampler(table, Root, clock);
        table.Set(Usage(100, 1, cpuSeconds: 0, memory: 10));
        sampler.Sample();
        clock.Advance(TimeSpan.FromSeconds(1));
        table.Set(Usage(100, 1, cpuSeconds: 0.5, memory: 10));
        sampler.Sample().CpuPercent.ShouldBe(50);

        // A timer catching up: 3 ms later, no clock tick of processor time has been counted yet.
        clock.Advance(TimeSpan.FromMilliseconds(3));
        table.Set(Usage(100, 1, cpuSeconds: 0.5, memory: 20), Usage(101, 100, cpuSeconds: 0.01, memory: 5));
        var soon = sampler.Sample();

        soon.CpuPercent.ShouldBe(50, "a 3 ms window would read a half-busy server as 0 %");
        soon.MemoryBytes.ShouldBe(25, "memory is read fresh every time");
        soon.ProcessCount.ShouldBe(2);

        clock.Advance(TimeSpan.FromMilliseconds(497));
        table.Set(Usage(100, 1, cpuSeconds: 0.75, memory: 20), Usage(101, 100, cpuSeconds: 0.05, memory: 5));
        sampler.Sample().CpuPercent.ShouldNotBeNull().ShouldBe(60, tolerance: 1e-9,
            "0.25 s of the root and all 0.05 s of the new child, over the 500 ms since the last measured sample");
    }

    private static ProcessUsage Usage(int pid, int parent, double cpuSeconds, long memory = 0, long start = 5000) =>
        new(pid, parent, pid == Root.Pid ? Root.StartTime : start, TimeSpan.FromSeconds(cpuSeconds), memory);

    private sealed class ScriptedTable : IProcessTable
    {
        private ProcessUsage[] _processes = [];

        public bool IsSupported => true;

        public string MemoryMetricName => "test";

        public void Set(params ProcessUsage[] processes) => _processes = processes;

        public void Refresh()
        {
        }

        public bool TryCollectTree(ProcessIdentity root, List<ProcessUsage> into)
        {
            into.Clear();
            if (!_processes.Any(p => p.Identity == root))
            {
                return false;
            }

            into.AddRange(_processes);
            return true;
        }

        public ProcessIdentity? Identify(int pid) => _processes.FirstOrDefault(p => p.Pid == pid) is { Pid: > 0 } p ? p.Identity : null;

        public bool IsRunning(ProcessIdentity identity) => _processes.Any(p => p.Identity == identity);

        public DateTimeOffset? GetStartTime(ProcessIdentity identity) => null;
    }
}
