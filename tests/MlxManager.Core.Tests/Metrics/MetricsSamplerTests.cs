using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using MlxManager.Core.Metrics;
using Xunit.Abstractions;

namespace MlxManager.Core.Tests.Metrics;

[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class MetricsSamplerTests(ITestOutputHelper output) : IDisposable
{
    private readonly ChildProcesses _children = new();
    private readonly CountingGpuProbe _gpu = new();

    public void Dispose() => _children.Dispose();

    [LinuxFact]
    public async Task SampleOnceAsync_MeasuresEveryTrackedServerInOneTick()
    {
        using var sampler = NewSampler(out var table);
        var busy = _children.StartBusy();
        var idle = _children.StartIdle();
        sampler.Track(2, table.Identify(busy.Id)!.Value);
        sampler.Track(1, table.Identify(idle.Id)!.Value);

        await sampler.SampleOnceAsync(CancellationToken.None);
        await Task.Delay(TimeSpan.FromSeconds(1));
        var snapshot = await sampler.SampleOnceAsync(CancellationToken.None);

        snapshot.Servers.Select(s => s.ServerId).ShouldBe([1, 2]);
        snapshot.Servers.ShouldAllBe(s => s.IsRunning && s.ProcessCount == 1 && s.MemoryBytes > 0 && s.MemoryFraction > 0);
        snapshot.Servers[1].CpuPercent.ShouldNotBeNull().ShouldBeGreaterThan(snapshot.Servers[0].CpuPercent!.Value);
        snapshot.SystemMemory.ShouldNotBeNull().TotalBytes.ShouldBeGreaterThan(0);
        snapshot.ServersMemoryBytes.ShouldBe(snapshot.Servers.Sum(s => s.MemoryBytes));
        snapshot.Gpu.ShouldBe(CountingGpuProbe.Reading);
        snapshot.Servers.ShouldAllBe(s => s.Gpu == CountingGpuProbe.Reading);
        sampler.HistoryFor(2).ShouldNotBeNull().Count.ShouldBe(2);
        sampler.LatestFor(2).ShouldBe(snapshot.Servers[1]);
        _gpu.Calls.ShouldBe(2, "one GPU reading per tick, shared by all servers");
    }

    [LinuxFact]
    public async Task Track_TheSameServerAgain_MeasuresTheNewProcessAndKeepsTheHistory()
    {
        using var sampler = NewSampler(out var table);
        var first = _children.StartIdle();
        sampler.Track(7, table.Identify(first.Id)!.Value);
        await sampler.SampleOnceAsync(CancellationToken.None);

        var second = _children.StartIdle();
        sampler.Track(7, table.Identify(second.Id)!.Value);
        var snapshot = await sampler.SampleOnceAsync(CancellationToken.None);

        snapshot.Servers.ShouldHaveSingleItem().Root.Pid.ShouldBe(second.Id);
        sampler.HistoryFor(7).ShouldNotBeNull().Count.ShouldBe(2);
    }

    [LinuxFact]
    public async Task SampleOnceAsync_WhenAServerHasExited_ReportsItNotRunningWithoutAddingHistory()
    {
        using var sampler = NewSampler(out var table);
        var idle = _children.StartIdle();
        sampler.Track(3, table.Identify(idle.Id)!.Value);
        await sampler.SampleOnceAsync(CancellationToken.None);

        idle.Kill();
        await idle.WaitForExitAsync();
        var snapshot = await sampler.SampleOnceAsync(CancellationToken.None);

        var server = snapshot.Servers.ShouldHaveSingleItem();
        server.IsRunning.ShouldBeFalse();
        server.MemoryBytes.ShouldBe(0);
        sampler.HistoryFor(3).ShouldNotBeNull().Count.ShouldBe(1);
    }

    [LinuxFact]
    public async Task Untrack_StopsMeasuringAndForgetsTheHistory()
    {
        using var sampler = NewSampler(out var table);
        sampler.Track(4, table.Identify(_children.StartIdle().Id)!.Value);
        await sampler.SampleOnceAsync(CancellationToken.None);

        sampler.Untrack(4).ShouldBeTrue();
        var snapshot = await sampler.SampleOnceAsync(CancellationToken.None);

        snapshot.Servers.ShouldBeEmpty();
        sampler.HistoryFor(4).ShouldBeNull();
        sampler.Untrack(4).ShouldBeFalse();
        _gpu.Calls.ShouldBe(1, "no GPU probe runs while no server is tracked");
        snapshot.SystemMemory.ShouldNotBeNull("the system memory bar is shown even without servers");
    }

    [LinuxFact]
    public async Task Subscribe_GetsTheLatestSnapshotAtOnceAndThenEachTick()
    {
        using var sampler = NewSampler(out _);
        var first = await sampler.SampleOnceAsync(CancellationToken.None);
        using var subscription = sampler.Subscribe();

        (await subscription.Reader.ReadAsync()).ShouldBeSameAs(first);
        var second = await sampler.SampleOnceAsync(CancellationToken.None);
        (await subscription.Reader.ReadAsync()).ShouldBeSameAs(second);
    }

    [LinuxFact]
    public async Task Subscribe_ASlowReader_GetsOnlyTheNewestSnapshot()
    {
        using var sampler = NewSampler(out _);
        using var subscription = sampler.Subscribe();
        for (var i = 0; i < 5; i++)
        {
            await sampler.SampleOnceAsync(CancellationToken.None);
        }

        subscription.Reader.TryRead(out var only).ShouldBeTrue();
        only.ShouldBeSameAs(sampler.Latest);
        subscription.Reader.TryRead(out _).ShouldBeFalse();
    }

    [LinuxFact]
    public async Task RunningAsAHostedService_PublishesOnItsOwnTimerAndCompletesSubscribersOnStop()
    {
        using var sampler = NewSampler(out var table, TimeSpan.FromMilliseconds(250));
        sampler.Track(1, table.Identify(_children.StartBusy().Id)!.Value);
        var published = 0;
        sampler.SnapshotPublished += _ => Interlocked.Increment(ref published);
        sampler.SnapshotPublished += _ => throw new InvalidOperationException("a broken page handler");
        using var subscription = sampler.Subscribe();

        await sampler.StartAsync(CancellationToken.None);
        var received = new List<MetricsSnapshot>();
        using (var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20)))
        {
            // A busy child on a loaded machine may get no processor time in one 250 ms window, so wait for
            // the first tick that saw it run rather than expecting it on a given tick.
            while (received.Count < 3 || !(received[^1].Servers.ShouldHaveSingleItem().CpuPercent > 0))
            {
                received.Add(await subscription.Reader.ReadAsync(timeout.Token));
            }
        }

        await sampler.StopAsync(CancellationToken.None);

        received.Select(s => s.At).ShouldBeInOrder(SortDirection.Ascending);
        received[0].Servers.ShouldHaveSingleItem().CpuPercent.ShouldBeNull("the first tick has nothing to compare with");
        published.ShouldBeGreaterThanOrEqualTo(3, "a throwing handler must not stop the others");
        await subscription.Reader.Completion.WaitAsync(TimeSpan.FromSeconds(5));
    }

    [LinuxFact]
    public async Task ReadAllAsync_EndsWhenTheCallerCancels()
    {
        using var sampler = NewSampler(out _);
        await sampler.SampleOnceAsync(CancellationToken.None);
        using var cancel = new CancellationTokenSource();
        var read = 0;

        await Should.ThrowAsync<OperationCanceledException>(async () =>
        {
            await foreach (var _ in sampler.ReadAllAsync(cancel.Token))
            {
                read++;
                await cancel.CancelAsync();
            }
        });

        read.ShouldBe(1);
    }

    [LinuxFact]
    public async Task SampleOnceAsync_WithEightWrappedServers_MeasuresEveryTreeInOneSynchronousTick()
    {
        using var sampler = NewSampler(out var table);
        for (var id = 1; id <= 8; id++)
        {
            sampler.Track(id, table.Identify(_children.StartWrapped("sleep", "120").Id)!.Value);
        }

        for (var i = 0; i < 5; i++)
        {
            await sampler.SampleOnceAsync(CancellationToken.None); // warm up: JIT, dictionaries sized
        }

        const int ticks = 50;
        var allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        var threadCpuBefore = ThreadCpuTime();
        var wall = Stopwatch.StartNew();
        for (var i = 0; i < ticks; i++)
        {
            // The GPU probe answers at once and the tick lock is free, so a tick completes synchronously on this
            // thread and the thread's counters below see all of its work.
            var tick = sampler.SampleOnceAsync(CancellationToken.None);
            tick.IsCompleted.ShouldBeTrue();
            await tick;
        }

        var cpuPerTick = (ThreadCpuTime() - threadCpuBefore) / ticks;
        var allocatedPerTick = (GC.GetAllocatedBytesForCurrentThread() - allocatedBefore) / ticks;
        output.WriteLine($"8 servers (16 processes), {Directory.GetDirectories("/proc").Count(d => char.IsAsciiDigit(Path.GetFileName(d)[0]))} processes on the machine: "
                         + $"{allocatedPerTick / 1024.0:0.0} KiB allocated and {cpuPerTick.TotalMilliseconds:0.00} ms CPU per tick "
                         + $"(wall {wall.Elapsed.TotalMilliseconds / ticks:0.00} ms); at a 2 s interval that is {cpuPerTick.TotalMilliseconds / 2000 * 100:0.00} % of a core");

        sampler.Latest.ShouldNotBeNull().Servers.Count.ShouldBe(8);
        sampler.Latest.Servers.ShouldAllBe(s => s.ProcessCount == 2);
        // The cost figures above are printed, not asserted: the target (the manager under 2 % of a core with 8
        // servers) is measured by tools/Bench servers against a baseline in the same run.
    }

    // Nanoseconds this thread has spent on a CPU, from the kernel's scheduler accounting.
    private static TimeSpan ThreadCpuTime() =>
        TimeSpan.FromTicks(long.Parse(File.ReadAllText("/proc/thread-self/schedstat").Split(' ')[0]) / 100);

    private MetricsSampler NewSampler(out LinuxProcessTable table, TimeSpan? interval = null)
    {
        table = new LinuxProcessTable();
        return new MetricsSampler(
            table,
            new LinuxSystemMemoryProbe(),
            _gpu,
            TimeProvider.System,
            Options.Create(new MetricsOptions { Interval = interval ?? TimeSpan.FromSeconds(2) }),
            NullLogger<MetricsSampler>.Instance);
    }

    private sealed class CountingGpuProbe : IGpuProbe
    {
        public static readonly GpuReading Reading = new(12, GpuScope.SystemWide, "test GPU, whole system");

        public int Calls;

        public Task<GpuReading> ReadAsync(CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref Calls);
            return Task.FromResult(Reading);
        }
    }
}
