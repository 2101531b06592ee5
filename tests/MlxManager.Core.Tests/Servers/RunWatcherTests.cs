using Microsoft.Extensions.DependencyInjection;
using MlxManager.Core.Engines;
using MlxManager.Core.Metrics;
using MlxManager.Core.Servers;
using MlxManager.Core.Servers.Processes;
using MlxManager.Core.Tests.Servers.Infrastructure;
using Xunit.Abstractions;

namespace MlxManager.Core.Tests.Servers;

/// <summary>The watch loop with real processes that are not engines: it reads their output and records their end.</summary>
[Collection(ServersCollection.Name)]
public sealed class RunWatcherTests(EngineWorld world, ITestOutputHelper output) : SupervisorHostTest(world, output)
{
    [LinuxFact]
    public async Task AProcessThatExits_IsReadToTheEnd_AndRecordedAsFailedWithItsExitAndTraceback()
    {
        var run = Launch("echo loading; echo 'Traceback (most recent call last):'; echo 'ValueError: no such weights'; printf 'last words'; exit 4");
        var advanced = new List<long>();
        Host.Supervisor.LogAdvanced += (id, sequence) =>
        {
            lock (advanced)
            {
                if (id == run.ServerId)
                {
                    advanced.Add(sequence);
                }
            }
        };

        Host.Services.GetRequiredService<RunWatcher>().Watch(run);
        await run.Ended.WaitAsync(TimeSpan.FromSeconds(30));

        var ended = run.Current;
        ended.State.ShouldBe(ServerState.Failed);
        ended.Detail.ShouldBe("mlx_lm.server exited with code 4 before it was ready. ValueError: no such weights");
        ended.ExitCode.ShouldBe(4);
        ended.FailureLines.ShouldBe(["loading", "Traceback (most recent call last):", "ValueError: no such weights", "last words"]);
        lock (advanced)
        {
            advanced.ShouldNotBeEmpty("observers hear that the log grew");
        }
    }

    [LinuxFact]
    public async Task AStopRequested_EndsAsStopped_WithTheReason()
    {
        var run = Launch("trap 'exit 0' TERM; while true; do sleep 0.05; done");
        Host.Services.GetRequiredService<RunWatcher>().Watch(run);

        await Host.Services.GetRequiredService<RunTransitions>().StopAsync(run, "Stopped to make room for another model.", CancellationToken.None);

        run.Ended.IsCompleted.ShouldBeTrue();
        run.Current.State.ShouldBe(ServerState.Stopped);
        run.Current.Detail.ShouldBe("Stopped to make room for another model.");
    }

    /// <summary>A run of a shell script in place of an engine, as the launcher would leave it: spawned, logged, current.</summary>
    private SupervisedRun Launch(string script)
    {
        var run = TestRuns.WithLog(Host.DataFolder, SupervisorHost.FreePort());
        var pid = PosixProcesses.Spawn(new DetachedLaunch(
            "/bin/sh", ["-c", script], new Dictionary<string, string> { ["PATH"] = "/usr/bin:/bin" }, Path.GetDirectoryName(run.LogPath)!, run.OutputPath));
        run.IsOurChild = true;
        run.Change(0, r => r.Process = Host.Services.GetRequiredService<IProcessTable>().Identify(pid) ?? new ProcessIdentity(pid, 0));
        return run;
    }
}
