using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MlxManager.Core.Metrics;
using MlxManager.Core.Servers.Processes;

namespace MlxManager.Core.Servers;

/// <summary>
/// Ends an engine's process tree: SIGTERM to its process group and to every descendant that left the group, SIGKILL
/// after the grace period, and the clean-up of what a crashed engine left of its group. Descendants come from the
/// manager's one process table (<see cref="IProcessTable"/>, shared with the metrics sampler), each checked against
/// its start time first, so a reused process id is never signalled. The run's end is recorded by the
/// <see cref="RunWatcher"/>, which reaps the process; this part only waits for it.
/// </summary>
internal sealed partial class ProcessTreeSignals(IProcessTable processes, TimeProvider time, IOptions<ServerOptions> options, ILogger<ProcessTreeSignals> logger)
{
    /// <summary>SIGTERM to the run's process tree, SIGKILL after the grace period; returns once the run has ended (or gave up waiting).</summary>
    public async Task TerminateAsync(SupervisedRun run, CancellationToken cancellationToken)
    {
        if (run.Process is not { } root)
        {
            return;
        }

        var grace = options.Value.EffectiveGracePeriod;
        var members = CollectTree(root);
        var signalled = SignalTree(root, members, PosixProcesses.SigTerm);
        run.Log?.Write($"Sent SIGTERM to {signalled} process(es) (pid {root.Pid} and its descendants).");
        if (await WaitEndedAsync(run, grace, cancellationToken).ConfigureAwait(false))
        {
            return;
        }

        members = [.. members.Union(CollectTree(root))];
        signalled = SignalTree(root, members, PosixProcesses.SigKill);
        run.Log?.Write($"Still running after {grace.TotalSeconds:0.#} s: sent SIGKILL to {signalled} process(es).");
        LogKilled(logger, run.Profile.Name, root.Pid);
        if (!await WaitEndedAsync(run, TimeSpan.FromSeconds(10), cancellationToken).ConfigureAwait(false))
        {
            LogStuck(logger, run.Profile.Name, root.Pid);
        }
    }

    /// <summary>The root and all its descendants now (empty when the root is gone).</summary>
    public IReadOnlyList<ProcessIdentity> CollectTree(ProcessIdentity root)
    {
        var tree = new List<ProcessUsage>();
        processes.Refresh();
        return processes.TryCollectTree(root, tree) ? tree.Select(p => p.Identity).ToList() : [];
    }

    /// <summary>
    /// Sends <paramref name="signal"/> to the root's process group and to each member still running (start time
    /// checked); returns how many were signalled.
    /// </summary>
    public int SignalTree(ProcessIdentity root, IEnumerable<ProcessIdentity> members, int signal)
    {
        var count = 0;
        // The engine leads its own session and process group: one signal reaches every process still in it
        // (a wrapper's child, mlx-openai-server's model process); descendants that left the group are signalled
        // one by one.
        if (processes.IsRunning(root) && PosixProcesses.SignalGroup(root.Pid, signal))
        {
            count++;
        }

        foreach (var member in members.Where(m => m != root))
        {
            if (processes.IsRunning(member) && PosixProcesses.Signal(member.Pid, signal))
            {
                count++;
            }
        }

        return count;
    }

    /// <summary>
    /// Ends whatever of a reaped engine's process group outlived it (a model process of a crashed parent): SIGTERM,
    /// SIGKILL after the grace period. The group id stays reserved while any member lives, so it cannot be reused.
    /// </summary>
    public async Task CleanUpGroupAsync(int group)
    {
        if (!PosixProcesses.SignalGroup(group, PosixProcesses.SigTerm))
        {
            return; // nothing left
        }

        var deadline = time.GetUtcNow() + options.Value.EffectiveGracePeriod;
        while (time.GetUtcNow() < deadline)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(100), time).ConfigureAwait(false);
            if (!PosixProcesses.SignalGroup(group, 0))
            {
                return;
            }
        }

        PosixProcesses.SignalGroup(group, PosixProcesses.SigKill);
    }

    private async Task<bool> WaitEndedAsync(SupervisedRun run, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (!run.IsWatched)
        {
            // Nothing watches it (should not happen for a run with a process): poll the process itself.
            var deadline = time.GetUtcNow() + timeout;
            while (run.Process is { } identity && processes.IsRunning(identity) && time.GetUtcNow() < deadline)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(50), time, cancellationToken).ConfigureAwait(false);
            }

            return run.Process is not { } p || !processes.IsRunning(p);
        }

        try
        {
            await run.Ended.WaitAsync(timeout, time, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The server of {Profile} (pid {Pid}) did not end after SIGTERM; sent SIGKILL")]
    private static partial void LogKilled(ILogger logger, string profile, int pid);

    [LoggerMessage(Level = LogLevel.Error, Message = "The server of {Profile} (pid {Pid}) did not end even after SIGKILL")]
    private static partial void LogStuck(ILogger logger, string profile, int pid);
}
