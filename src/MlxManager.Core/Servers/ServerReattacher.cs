using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MlxManager.Core.Engines;
using MlxManager.Core.Metrics;
using MlxManager.Core.Profiles;
using MlxManager.Core.Servers.Processes;

namespace MlxManager.Core.Servers;

/// <summary>
/// At the manager's start: takes back the servers an earlier manager left running. Each run still recorded as active
/// whose process is the same one (process id and start time) is watched again and proved ready again with a
/// completion (or failed when nothing answers on its port any more); a run found stopping is stopped; the others
/// are recorded as ended while the manager was not running, with the last lines of their output.
/// </summary>
internal sealed partial class ServerReattacher(
    RunStore store,
    CurrentRuns runs,
    EngineRegistry engines,
    RunTransitions transitions,
    RunWatcher watcher,
    IProcessTable processes,
    TimeProvider time,
    IOptions<ServerOptions> options,
    ILogger<ServerReattacher> logger)
{
    public async Task ReattachAsync(CancellationToken cancellationToken)
    {
        var (rows, profiles) = await store.ActiveRunsAsync(cancellationToken).ConfigureAwait(false);
        foreach (var row in rows)
        {
            var profile = profiles.FirstOrDefault(p => p.Id == row.ProfileId);
            if (profile is null || !engines.TryGet(row.Engine, out var engine))
            {
                continue;
            }

            var run = Adopt(row, profile, engine);
            var identity = row.Pid is { } pid && row.ProcessStartTime is { } startTime ? new ProcessIdentity(pid, startTime) : (ProcessIdentity?)null;
            if (identity is { } process && processes.IsRunning(process) && run.Log is not null)
            {
                await ResumeAsync(run, row, process, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await RecordGoneAsync(run, row, identity).ConfigureAwait(false);
            }
        }
    }

    /// <summary>The run as this manager's: the profile as it was started (it may have changed since), its log resumed.</summary>
    private SupervisedRun Adopt(ServerRun row, Profile profile, IEngineDefinition engine)
    {
        var run = new SupervisedRun(row.Id, AsStarted(profile, row), engine, new ResolvedModel(row.ModelReference, row.ModelIsMultimodal),
            new DateTimeOffset(row.StartedAtUtc, TimeSpan.Zero), row.LogPath, row.OutputPath)
        {
            Reattached = true,
            WatchedSince = time.GetUtcNow(),
        };
        // A row without paths never got as far as its files (a manager of an older version stopped in between).
        run.Log = row.OutputPath.Length > 0 && row.LogPath.Length > 0
            ? RunLog.Resume(row.OutputPath, row.LogPath, time, options.Value.EffectiveMaxRunLogBytes)
            : null;
        runs.Change(run, r =>
        {
            r.CommandLine = row.CommandLine;
            r.ReadyAt = row.ReadyAtUtc is { } ready ? new DateTimeOffset(ready, TimeSpan.Zero) : null;
        });
        runs.Replace(run)?.Log?.Dispose();
        return run;
    }

    private async Task ResumeAsync(SupervisedRun run, ServerRun row, ProcessIdentity process, CancellationToken cancellationToken)
    {
        var answers = await PortProbe.AnswersAsync(row.Host, row.Port, TimeSpan.FromSeconds(1), cancellationToken).ConfigureAwait(false);
        var pending = run.Log!.PendingBacklog;
        run.Log.Write($"Re-attached after a manager restart to pid {process.Pid} (same process: its start time matches)."
                      + (pending > 0 ? $" The next {pending} line(s) were written while no manager was running; their times are when they were read." : ""));
        runs.Change(run, r =>
        {
            r.Process = process;
            r.State = row.State == ServerState.Stopping ? ServerState.Stopping : row.State == ServerState.Starting && !answers ? ServerState.Starting : ServerState.Loading;
            r.Detail = "Re-attached after a manager restart; checking that it still answers.";
        });
        LogReattached(logger, run.Profile.Name, process.Pid, row.Port);
        run.IsOurChild = PosixProcesses.TryReap(process.Pid, out var isChild) is null && isChild;
        watcher.Watch(run);
        if (row.State == ServerState.Stopping)
        {
            transitions.ContinueStop(run);
        }
        else if (!answers && row.State != ServerState.Starting)
        {
            await transitions.FailAsync(run, $"Its process (pid {process.Pid}) still runs, but nothing answers on {row.Host}:{row.Port} any more.").ConfigureAwait(false);
        }
    }

    private async Task RecordGoneAsync(SupervisedRun run, ServerRun row, ProcessIdentity? identity)
    {
        var backlog = run.Log?.ReadNewOutput() ?? [];
        run.Log?.Write("The manager restarted and found this server's process gone.");
        var failureLines = transitions.FailureLines(run);
        var stopping = row.State == ServerState.Stopping;
        var reason = stopping
            ? "Stopped (it ended while the manager was not running)."
            : $"{run.Engine.ExecutableName} ended while the manager was not running (pid {row.Pid?.ToString(CultureInfo.InvariantCulture) ?? "unknown"}); its exit status is unknown."
              + (TracebackSummary.LastException(failureLines) is { } traceback ? $" {traceback}" : "");
        runs.Change(run, r =>
        {
            r.State = stopping ? ServerState.Stopped : ServerState.Failed;
            r.Detail = reason;
            r.FailureLines = stopping ? [] : failureLines;
            r.Process = identity;
            r.EndedAt = time.GetUtcNow();
        });
        LogGoneWhileAway(logger, run.Profile.Name, backlog.Count);
        await store.SaveAsync(run).ConfigureAwait(false);
        run.Log?.Dispose();
        run.MarkEnded();
    }

    private static Profile AsStarted(Profile profile, ServerRun row)
    {
        var copy = profile.Duplicate(profile.Name, row.Port, profile.UpdatedAt);
        copy.Id = profile.Id;
        copy.Host = row.Host;
        copy.Engine = row.Engine;
        copy.ModelRef = row.ModelReference;
        copy.CreatedAt = profile.CreatedAt;
        return copy;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Re-attached to the server of {Profile} (pid {Pid}, port {Port})")]
    private static partial void LogReattached(ILogger logger, string profile, int pid, int port);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The server of {Profile} ended while the manager was not running ({Lines} unread output lines)")]
    private static partial void LogGoneWhileAway(ILogger logger, string profile, int lines);
}
