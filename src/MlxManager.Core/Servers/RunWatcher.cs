using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MlxManager.Core.Engines;
using MlxManager.Core.Metrics;
using MlxManager.Core.Servers.Processes;

namespace MlxManager.Core.Servers;

/// <summary>
/// The one loop that watches every run from its launch (or re-attach) until it ends: new output (tailed into the run's
/// log, which rotates it by size), the engine's fatal log signature, the process's exit (<c>waitpid</c> for the
/// manager's own children, the process identity for re-attached ones) and the load timeout. It checks every
/// <see cref="ServerOptions.WatchIntervalWhileLoading"/> while any run starts, loads, stops or has output that may still
/// complete a fatal signature, every <see cref="ServerOptions.WatchIntervalWhenReady"/> otherwise, and sleeps when
/// there is no run: one timer for all servers keeps the manager's idle cost flat as servers are added.
/// </summary>
internal sealed partial class RunWatcher(
    RunTransitions transitions,
    ReadinessProber prober,
    CurrentRuns runs,
    IProcessTable processes,
    MetricsSampler metrics,
    SupervisorWork work,
    TimeProvider time,
    IOptions<ServerOptions> options,
    ILogger<RunWatcher> logger) : IDisposable
{
    private readonly Lock _lock = new();
    private readonly HashSet<SupervisedRun> _watched = [];
    private readonly CancellationTokenSource _stop = new();
    private TaskCompletionSource _wake = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task _loop = Task.CompletedTask;

    private ServerOptions Options => options.Value;

    /// <summary>Starts the loop (the supervisor's start-up, before re-attaching).</summary>
    public void Start() => _loop = Task.Run(() => LoopAsync(_stop.Token), CancellationToken.None);

    /// <summary>Stops the loop and waits for its pass to finish. Runs still watched are left to <see cref="DetachAsync"/>.</summary>
    public async Task StopAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);
    }

    /// <summary>Begins watching a run that has a process: the loop checks it from now on, its metrics are sampled, and its readiness probe starts.</summary>
    public void Watch(SupervisedRun run)
    {
        run.LastOutput = time.GetUtcNow();
        run.QuietFlushed = true;
        run.IsWatched = true;
        if (run.Process is { } process)
        {
            metrics.Track(run.ServerId, process);
        }

        run.ProbeTask = work.Start($"proving the server of {run.Profile.Name} ready", () => prober.ProbeUntilReadyAsync(run));
        lock (_lock)
        {
            _watched.Add(run);
            _wake.TrySetResult(); // look at once instead of after the ready interval
        }
    }

    /// <summary>Stops watching a run whose process keeps running for the next manager (shutdown): probe ended, log closed, metrics off.</summary>
    public async Task DetachAsync(SupervisedRun run)
    {
        if (run.State.IsActive() && run.Process is { } process)
        {
            run.Log?.Write($"The manager is shutting down; the server keeps running (pid {process.Pid}) and the next manager re-attaches to it.");
            LogDetached(logger, run.Profile.Name, process.Pid);
        }

        await run.Watching.CancelAsync().ConfigureAwait(false);
        if (run.ProbeTask is { } probe)
        {
            await probe.ConfigureAwait(false);
        }

        run.IsWatched = false;
        run.Log?.Dispose();
        metrics.Untrack(run.ServerId);
    }

    public void Dispose()
    {
        _stop.Cancel();
        _stop.Dispose();
    }

    private async Task LoopAsync(CancellationToken token)
    {
        while (!token.IsCancellationRequested)
        {
            List<SupervisedRun> watched;
            lock (_lock)
            {
                watched = [.. _watched];
            }

            foreach (var run in watched)
            {
                try
                {
                    if (await CheckAsync(run).ConfigureAwait(false))
                    {
                        lock (_lock)
                        {
                            _watched.Remove(run);
                        }
                    }
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    LogWatchFailed(logger, run.Profile.Name, e);
                    await transitions.FailAsync(run, $"The manager lost track of the server: {e.Message}").ConfigureAwait(false);
                }
            }

            var busy = watched.Any(r => r.State != ServerState.Ready || !r.QuietFlushed);
            Task woken;
            lock (_lock)
            {
                if (_wake.Task.IsCompleted)
                {
                    // Woken during this pass (a run was added after the list was taken): look again at once.
                    _wake = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    woken = Task.CompletedTask;
                }
                else
                {
                    woken = _wake.Task;
                }
            }

            var interval = watched.Count == 0 ? Timeout.InfiniteTimeSpan : busy ? Options.LoadingInterval : Options.ReadyInterval;
            // A delay left behind when woken only ever ends or is cancelled; it cannot fault.
            await Task.WhenAny(woken, Task.Delay(interval, time, token)).ConfigureAwait(false);
        }
    }

    /// <summary>One check of one run. True once the run has ended (and is final) or was detached.</summary>
    private async Task<bool> CheckAsync(SupervisedRun run)
    {
        if (run.Watching.IsCancellationRequested)
        {
            return true; // detached
        }

        var now = time.GetUtcNow();
        var lines = run.Log?.ReadNewOutput() ?? [];
        if (lines.Count > 0)
        {
            run.LastOutput = now;
            run.QuietFlushed = false;
            runs.LogAdvanced(run.ServerId, lines[^1].Sequence);
            foreach (var line in lines)
            {
                if (run.Watcher.Observe(line.Text) is { } match)
                {
                    await transitions.FailAsync(run, FatalReason(run, match)).ConfigureAwait(false);
                }
            }
        }
        else if (!run.QuietFlushed && now - run.LastOutput >= Options.QuietBeforeFlush)
        {
            run.QuietFlushed = true;
            if (run.Watcher.Flush() is { } match)
            {
                await transitions.FailAsync(run, FatalReason(run, match)).ConfigureAwait(false);
            }
        }

        if (CheckExit(run) is { } exit)
        {
            await transitions.FinishAsync(run, exit).ConfigureAwait(false);
            return true;
        }

        if (run.State is ServerState.Starting or ServerState.Loading && Options.LoadTimeoutOf(run.Profile) is var timeout && now - run.WatchedSince > timeout)
        {
            var which = run.Profile.LoadTimeoutSeconds is > 0 ? "the profile's load timeout" : $"the load timeout, setting {ServerOptions.SectionName}:LoadTimeout";
            await transitions.FailAsync(run, $"It did not answer a one-token completion within {Durations.Describe(timeout)} ({which}).").ConfigureAwait(false);
        }

        return false;
    }

    private static string FatalReason(SupervisedRun run, FatalLogMatch match) =>
        $"{run.Engine.ExecutableName} printed a fatal error and stopped working while its process keeps running: {match.Summary}";

    private ProcessExit? CheckExit(SupervisedRun run)
    {
        if (run.Process is not { } process)
        {
            return null;
        }

        if (run.IsOurChild)
        {
            var exit = PosixProcesses.TryReap(process.Pid, out var isChild);
            if (exit is not null || isChild)
            {
                return exit;
            }

            run.IsOurChild = false; // reaped elsewhere or never ours: fall back to the identity check
        }

        return processes.IsRunning(process) ? null : ProcessExit.Unknown;
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Watching the server of {Profile} failed")]
    private static partial void LogWatchFailed(ILogger logger, string profile, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Left the server of {Profile} running (pid {Pid}) for the next manager")]
    private static partial void LogDetached(ILogger logger, string profile, int pid);
}
