using Xunit.Abstractions;
using System.Diagnostics;
using MlxManager.Core.Metrics;

namespace MlxManager.Core.Tests.Metrics;

/// <summary>Real processes measured through /proc. Linux only: on other systems these tests have nothing to measure.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class LinuxProcessTableTests(ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan Window = TimeSpan.FromSeconds(1.5);
    private readonly ChildProcesses _children = new();

    public void Dispose() => _children.Dispose();

    [LinuxFact]
    public void TicksPerSecond_ComesFromTheKernelNotAnAssumption()
    {
        var getconf = _children.Start("getconf", "CLK_TCK");
        var expected = long.Parse(getconf.StandardOutput.ReadToEnd().Trim());
        getconf.WaitForExit();

        new LinuxProcessTable().TicksPerSecond.ShouldBe(expected);
    }

    [LinuxFact]
    public async Task Sample_OfABusyProcess_ReportsTheShareOfACoreItReallyGot()
    {
        var table = new LinuxProcessTable();
        var busy = _children.StartBusy();
        var sampler = new ProcessTreeSampler(table, table.Identify(busy.Id)!.Value, TimeProvider.System);
        table.Refresh();
        sampler.Sample().CpuPercent.ShouldBeNull("the first sample has nothing to compare with");
        var before = SchedStat.Read(busy.Id);
        var wall = Stopwatch.StartNew();

        await Task.Delay(Window);
        table.Refresh();
        var sample = sampler.Sample();
        var after = SchedStat.Read(busy.Id);
        var elapsed = wall.Elapsed;

        var onCpuPercent = (after.OnCpu - before.OnCpu) / elapsed * 100;
        var runnablePercent = (after.OnCpu + after.Waiting - before.OnCpu - before.Waiting) / elapsed * 100;
        output.WriteLine($"busy: sampler {sample.CpuPercent:0.0} %, kernel schedstat on-CPU {onCpuPercent:0.0} %, runnable {runnablePercent:0.0} %");
        sample.IsRunning.ShouldBeTrue();
        runnablePercent.ShouldBeGreaterThan(90, "the helper is busy: always running or waiting for a core");
        sample.CpuPercent.ShouldNotBeNull().ShouldBe(onCpuPercent, tolerance: 10, "the sampler must report the time the kernel gave it");
        if (onCpuPercent > 60)
        {
            sample.CpuPercent.Value.ShouldBeGreaterThan(50); // with a core free, a busy process shows as busy
        }
        else
        {
            sample.CpuPercent.Value.ShouldBeGreaterThan(1); // the machine is saturated by others: still clearly not idle
        }
    }

    [LinuxFact]
    public async Task Sample_OfAnIdleProcess_ReportsAlmostNoCpu()
    {
        var table = new LinuxProcessTable();
        var idle = _children.StartIdle();
        var sampler = new ProcessTreeSampler(table, table.Identify(idle.Id)!.Value, TimeProvider.System);
        table.Refresh();
        sampler.Sample();

        await Task.Delay(Window);
        table.Refresh();

        var sample = sampler.Sample();
        output.WriteLine($"idle: {sample.CpuPercent:0.00} %");
        sample.CpuPercent.ShouldNotBeNull().ShouldBeLessThan(2);
    }

    [LinuxFact]
    public async Task Sample_OfAProcessHoldingMemory_ReportsItWithinTwentyPercent()
    {
        var table = new LinuxProcessTable();
        var holder = _children.StartHolding(160);
        var sampler = new ProcessTreeSampler(table, table.Identify(holder.Id)!.Value, TimeProvider.System);

        var sample = await Eventually.ValueAsync(
            () => { table.Refresh(); return sampler.Sample(); },
            s => s.MemoryBytes >= 150 * ChildProcesses.Megabyte,
            TimeSpan.FromSeconds(10),
            "the holder's memory shows");

        output.WriteLine($"holding 160 MiB: {sample.MemoryBytes / (double)ChildProcesses.Megabyte:0.0} MiB");
        sample.MemoryBytes.ShouldBeInRange(128 * ChildProcesses.Megabyte, 192 * ChildProcesses.Megabyte);
        table.MemoryMetricName.ShouldBe("resident memory (RSS)");
    }

    [LinuxFact]
    public async Task Sample_OfAWrapperStartingTheWorkAsAChild_MeasuresTheWholeTree()
    {
        var table = new LinuxProcessTable();
        var wrapper = _children.StartWrapped("dd", "if=/dev/zero", "of=/dev/null", "bs=160M");
        var wall = Stopwatch.StartNew();
        var root = table.Identify(wrapper.Id)!.Value;
        var sampler = new ProcessTreeSampler(table, root, TimeProvider.System);
        await Eventually.ValueAsync(
            () => { table.Refresh(); return sampler.Sample(); },
            s => s.MemoryBytes >= 150 * ChildProcesses.Megabyte,
            TimeSpan.FromSeconds(10),
            "the child's buffer shows in the tree");
        var processes = new List<ProcessUsage>();
        table.TryCollectTree(root, processes).ShouldBeTrue();
        var child = processes.Single(p => p.Pid != wrapper.Id).Pid;
        var before = SchedStat.Read(child);
        wall.Restart();

        await Task.Delay(Window);
        table.Refresh();
        var sample = sampler.Sample();
        var onCpuPercent = (SchedStat.Read(child).OnCpu - before.OnCpu) / wall.Elapsed * 100;
        table.TryCollectTree(root, processes).ShouldBeTrue();

        output.WriteLine($"wrapper tree: {sample.ProcessCount} processes, {sample.MemoryBytes / (double)ChildProcesses.Megabyte:0.0} MiB, {sample.CpuPercent:0.0} % (child on-CPU per kernel {onCpuPercent:0.0} %)");
        sample.ProcessCount.ShouldBe(2);
        sample.MemoryBytes.ShouldBeInRange(128 * ChildProcesses.Megabyte, 192 * ChildProcesses.Megabyte);
        sample.CpuPercent.ShouldNotBeNull().ShouldBe(onCpuPercent, tolerance: 10, "the child's work counts for the tree");
        sample.CpuPercent.Value.ShouldBeGreaterThan(1);
        var wrapperAlone = processes.Single(p => p.Pid == wrapper.Id);
        wrapperAlone.MemoryBytes.ShouldBeLessThan(20 * ChildProcesses.Megabyte, "the wrapper itself holds almost nothing");
        processes.Single(p => p.Pid != wrapper.Id).ParentPid.ShouldBe(wrapper.Id);
    }

    [LinuxFact]
    public async Task TryCollectTree_FollowsGrandchildren()
    {
        var table = new LinuxProcessTable();
        var wrapper = _children.StartWrapped("timeout", "120", "sleep", "120");
        var root = table.Identify(wrapper.Id)!.Value;
        var processes = new List<ProcessUsage>();

        await Eventually.ValueAsync(
            () => { table.Refresh(); table.TryCollectTree(root, processes); return processes.Count; },
            count => count == 3,
            TimeSpan.FromSeconds(10),
            "the grandchild appears");

        processes.Count.ShouldBe(3);
        processes[0].Pid.ShouldBe(wrapper.Id);
    }

    [LinuxFact]
    public void IsRunning_WhenThePidBelongsToAProcessStartedAtAnotherTime_SaysNo()
    {
        var table = new LinuxProcessTable();
        var idle = _children.StartIdle();
        var identity = table.Identify(idle.Id)!.Value;
        var reused = identity with { StartTime = identity.StartTime - 1 };

        table.IsRunning(identity).ShouldBeTrue();
        table.IsRunning(reused).ShouldBeFalse();
        table.Refresh();
        new ProcessTreeSampler(table, reused, TimeProvider.System).Sample().ShouldBe(ProcessTreeSample.Gone);
        table.GetStartTime(reused).ShouldBeNull();
    }

    [LinuxFact]
    public async Task Sample_AfterTheProcessExits_SaysGone()
    {
        var table = new LinuxProcessTable();
        var idle = _children.StartIdle();
        var identity = table.Identify(idle.Id)!.Value;
        var sampler = new ProcessTreeSampler(table, identity, TimeProvider.System);
        table.Refresh();
        sampler.Sample().IsRunning.ShouldBeTrue();

        idle.Kill();
        await idle.WaitForExitAsync();
        table.Refresh();

        sampler.Sample().ShouldBe(ProcessTreeSample.Gone);
        table.IsRunning(identity).ShouldBeFalse();
    }

    [LinuxFact]
    public void GetStartTime_MatchesWhenTheProcessReallyStarted()
    {
        var table = new LinuxProcessTable();
        var self = Process.GetCurrentProcess();
        var identity = table.Identify(self.Id)!.Value;

        var started = table.GetStartTime(identity).ShouldNotBeNull();

        started.UtcDateTime.ShouldBe(self.StartTime.ToUniversalTime(), TimeSpan.FromSeconds(2));
    }

    [LinuxFact]
    public async Task Refresh_WhileProcessesStartAndExit_NeverThrowsAndKeepsFindingLiveOnes()
    {
        var table = new LinuxProcessTable();
        var self = table.Identify(Environment.ProcessId)!.Value;
        using var stop = new CancellationTokenSource();
        var churn = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                using var shortLived = Process.Start(new ProcessStartInfo("true") { UseShellExecute = false })!;
                await shortLived.WaitForExitAsync();
            }
        });
        var processes = new List<ProcessUsage>();

        for (var i = 0; i < 100; i++)
        {
            table.Refresh();
            table.TryCollectTree(self, processes).ShouldBeTrue();
        }

        await stop.CancelAsync();
        await churn;
    }
}

/// <summary>
/// The kernel's own scheduler accounting (<c>/proc/&lt;pid&gt;/schedstat</c>: nanoseconds on a CPU, nanoseconds
/// runnable but waiting): an independent, precise reference for what the sampler derives from tick counts.
/// </summary>
internal static class SchedStat
{
    public static (TimeSpan OnCpu, TimeSpan Waiting) Read(int pid)
    {
        var fields = File.ReadAllText($"/proc/{pid}/schedstat").Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return (TimeSpan.FromTicks(long.Parse(fields[0]) / 100), TimeSpan.FromTicks(long.Parse(fields[1]) / 100));
    }
}
