using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MlxManager.Core.Engines;
using MlxManager.Core.Metrics;
using MlxManager.Core.Servers.Processes;

namespace MlxManager.Core.Servers;

/// <summary>
/// The changes of a run's state that several parts make — loading, ready, failed, stopping, ended — each written to the
/// run's log and the manager's log and saved with the run. The launcher, the watcher, the readiness prober, the
/// re-attacher and the supervisor's commands all go through here, so a state means the same whoever set it.
/// </summary>
internal sealed partial class RunTransitions(
    CurrentRuns runs,
    RunStore store,
    ProcessTreeSignals signals,
    SupervisorWork work,
    MetricsSampler metrics,
    TimeProvider time,
    IOptions<ServerOptions> options,
    ILogger<RunTransitions> logger)
{
    private ServerOptions Options => options.Value;

    /// <summary>The start failed before a process ran (invalid profile, model missing, port taken, spawn error).</summary>
    public async Task FailBeforeLaunchAsync(SupervisedRun run, string reason)
    {
        run.Log?.Write($"Not started: {reason}");
        runs.Change(run, r =>
        {
            r.State = ServerState.Failed;
            r.Detail = reason;
            r.EndedAt = time.GetUtcNow();
        });
        await store.SaveAsync(run).ConfigureAwait(false);
        run.Log?.Dispose();
        run.Watching.Cancel();
        run.MarkEnded();
        LogNotStarted(logger, run.Profile.Name, reason);
    }

    /// <summary>The engine answers on its port but has not answered a completion yet.</summary>
    public void SetLoading(SupervisedRun run, string detail)
    {
        var current = run.Current;
        if (current.State is not (ServerState.Starting or ServerState.Loading) || (current.State == ServerState.Loading && current.Detail == detail))
        {
            return;
        }

        if (current.State == ServerState.Starting)
        {
            run.Log?.Write("The engine answers on its port; loading the model.");
        }

        runs.Change(run, r =>
        {
            if (r.State is ServerState.Starting or ServerState.Loading)
            {
                r.State = ServerState.Loading;
                r.Detail = detail;
            }
        });
        if (current.State == ServerState.Starting)
        {
            work.Run($"saving the loading state of run {run.RunId}", () => store.SaveAsync(run));
        }
    }

    /// <summary>A one-token completion came back: the run is ready (unless it failed or stopped meanwhile).</summary>
    public async Task SetReadyAsync(SupervisedRun run)
    {
        var now = time.GetUtcNow();
        var took = Durations.Describe(now - run.WatchedSince);
        var changed = false;
        runs.Change(run, r =>
        {
            if (r.State is ServerState.Starting or ServerState.Loading)
            {
                r.State = ServerState.Ready;
                r.ReadyAt = now;
                r.Detail = run.Reattached ? "Ready (re-attached after a manager restart; it answered a completion)." : $"Ready: answered a completion after {took}.";
                changed = true;
            }
        });
        if (!changed)
        {
            return;
        }

        run.Log?.Write(run.Reattached ? "Ready: it still answers a one-token completion." : $"Ready: answered a one-token completion after {took}.");
        LogReady(logger, run.Profile.Name, run.Reattached ? "re-attaching" : "starting", took);
        await store.SaveAsync(run).ConfigureAwait(false);
    }

    /// <summary>
    /// The run failed while its process may still run (fatal signature, load timeout, refused readiness, lost track):
    /// records why with the log's tail, and ends the process in the background; the watcher records its exit.
    /// </summary>
    public async Task FailAsync(SupervisedRun run, string reason)
    {
        if (run.State is ServerState.Failed or ServerState.Stopped || run.StopRequested)
        {
            return;
        }

        run.Log?.Write($"Failed: {reason}");
        var failureLines = FailureLines(run);
        runs.Change(run, r =>
        {
            r.State = ServerState.Failed;
            r.Detail = reason;
            r.FailureLines = failureLines;
        });
        LogFailed(logger, run.Profile.Name, reason);
        await run.Probing.CancelAsync().ConfigureAwait(false);
        await store.SaveAsync(run).ConfigureAwait(false);
        // A failed engine that still runs holds memory and its port: end it.
        work.Run($"ending the failed server of {run.Profile.Name}", () => signals.TerminateAsync(run, CancellationToken.None));
    }

    /// <summary>
    /// Stops the run for <paramref name="reason"/> (which becomes its detail once stopped): state stopping, then the
    /// process tree is ended; returns once the run has ended (or the signals gave up waiting).
    /// </summary>
    public async Task StopAsync(SupervisedRun run, string reason, CancellationToken cancellationToken)
    {
        run.StopReason ??= reason;
        await run.Probing.CancelAsync().ConfigureAwait(false);
        if (run.State != ServerState.Stopping)
        {
            run.Log?.Write($"Stop requested: {reason}");
            runs.Change(run, r =>
            {
                r.State = ServerState.Stopping;
                r.Detail = "Stopping: asked the engine's processes to end (SIGTERM).";
            });
            await store.SaveAsync(run).ConfigureAwait(false);
        }

        await signals.TerminateAsync(run, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Continues the stop of a run found stopping after a manager restart, in the background.</summary>
    public void ContinueStop(SupervisedRun run)
    {
        run.StopReason ??= "Stopped on request (before the manager restarted).";
        work.Run($"stopping the server of {run.Profile.Name}", () => signals.TerminateAsync(run, CancellationToken.None));
    }

    /// <summary>
    /// The engine's process has ended: reads its last output, records the final state (stopped after a stop request,
    /// otherwise failed with the exit, the fatal signature or the traceback's exception), closes the log and ends the run.
    /// </summary>
    public async Task FinishAsync(SupervisedRun run, ProcessExit exit)
    {
        var wasOurChild = run.IsOurChild;
        var fatal = ReadLastOutput(run);
        var now = time.GetUtcNow();
        run.Log?.Write($"The engine {exit.Describe()}.");
        var failureLines = FailureLines(run);
        var state = run.State;
        if (run.StopRequested && state != ServerState.Failed)
        {
            var reason = run.StopReason ?? "Stopped.";
            runs.Change(run, r =>
            {
                r.State = ServerState.Stopped;
                r.Detail = exit.ExitCode is 0 or null && exit.Signal is null or PosixProcesses.SigTerm
                    ? reason
                    : $"{reason.TrimEnd('.')} (the engine {exit.Describe()}).";
                r.ExitCode = exit.ExitCode;
                r.EndedAt = now;
            });
        }
        else if (state == ServerState.Failed)
        {
            runs.Change(run, r =>
            {
                r.ExitCode = exit.ExitCode;
                r.EndedAt = now;
            });
        }
        else
        {
            var when = state == ServerState.Ready ? $"after serving for {Durations.Describe(now - (run.Current.ReadyAt ?? now))}" : "before it was ready";
            var traceback = fatal?.Summary ?? TracebackSummary.LastException(failureLines);
            var reason = $"{run.Engine.ExecutableName} {exit.Describe()} {when}." + (traceback is null ? "" : $" {traceback}");
            runs.Change(run, r =>
            {
                r.State = ServerState.Failed;
                r.Detail = reason;
                r.FailureLines = failureLines;
                r.ExitCode = exit.ExitCode;
                r.EndedAt = now;
            });
            LogFailed(logger, run.Profile.Name, reason);
        }

        metrics.Untrack(run.ServerId);
        await run.Probing.CancelAsync().ConfigureAwait(false);
        await store.SaveAsync(run).ConfigureAwait(false);
        run.Log?.Dispose();
        run.IsWatched = false;
        run.MarkEnded();
        if (wasOurChild && run.Process is { } root)
        {
            work.Run($"cleaning up the process group of {run.Profile.Name}", () => signals.CleanUpGroupAsync(root.Pid));
        }

        LogEnded(logger, run.Profile.Name, run.Current.State.Word());
    }

    /// <summary>The engine's last lines of output, for a failed run's record.</summary>
    public IReadOnlyList<string> FailureLines(SupervisedRun run) =>
        run.Log?.Tail(Options.FailureLines, engineOnly: true).Select(l => l.Text).ToList() ?? [];

    /// <summary>Reads the output written before the exit (and an unterminated last line); the fatal signature in it, if any.</summary>
    private FatalLogMatch? ReadLastOutput(SupervisedRun run)
    {
        var lines = new List<LogLine>(run.Log?.ReadNewOutput() ?? []);
        if (run.Log?.FlushPartialLine() is { } last)
        {
            lines.Add(last);
        }

        FatalLogMatch? fatal = null;
        foreach (var line in lines)
        {
            fatal ??= run.Watcher.Observe(line.Text);
        }

        if (lines.Count > 0)
        {
            runs.LogAdvanced(run.ServerId, lines[^1].Sequence);
        }

        return fatal ?? run.Watcher.Flush();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The server of {Profile} was not started: {Reason}")]
    private static partial void LogNotStarted(ILogger logger, string profile, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "The server of {Profile} is ready, {Took} after {Event}")]
    private static partial void LogReady(ILogger logger, string profile, string @event, string took);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The server of {Profile} failed: {Reason}")]
    private static partial void LogFailed(ILogger logger, string profile, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "The server of {Profile} is {State}")]
    private static partial void LogEnded(ILogger logger, string profile, string state);
}
