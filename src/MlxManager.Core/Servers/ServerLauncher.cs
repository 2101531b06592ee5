using System.ComponentModel;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MlxManager.Core.Engines;
using MlxManager.Core.Metrics;
using MlxManager.Core.Profiles;
using MlxManager.Core.Servers.Processes;

namespace MlxManager.Core.Servers;

/// <summary>
/// Starts a profile's server: the run exists first (row, log files, tile), so that any failure shows where the server
/// would be; then the <see cref="LaunchPlanner"/> decides what to run, <see cref="PosixProcesses.Spawn"/> starts it
/// detached (own session, output on the run's <c>.out</c> file), and the <see cref="RunWatcher"/> takes over.
/// </summary>
internal sealed partial class ServerLauncher(
    RunStore store,
    CurrentRuns runs,
    EngineRegistry engines,
    LaunchPlanner planner,
    RunTransitions transitions,
    RunWatcher watcher,
    IProcessTable processes,
    TimeProvider time,
    IOptions<ServerOptions> options,
    ILogger<ServerLauncher> logger)
{
    /// <summary>
    /// Starts the server of <paramref name="profileId"/>. The caller holds the server's gate and has checked that it is
    /// not active. Returns once the process runs (state starting) or the start failed before that.
    /// </summary>
    public async Task<ServerCommandResult> LaunchAsync(int profileId, CancellationToken cancellationToken)
    {
        var profile = await store.FindProfileAsync(profileId, cancellationToken).ConfigureAwait(false);
        if (profile is null)
        {
            return new ServerCommandResult(false, "That profile does not exist (any more).", null);
        }

        if (!engines.TryGet(profile.Engine, out var engine))
        {
            return new ServerCommandResult(false, $"The profile \"{profile.Name}\" uses an unknown engine '{profile.Engine}'. Edit the profile and choose one.", null);
        }

        var run = await CreateRunAsync(profile, engine, cancellationToken).ConfigureAwait(false);
        LaunchPlan plan;
        try
        {
            plan = await planner.PlanAsync(run, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // The run exists: it must end, or it would stay "starting" with nothing to watch.
            await transitions.FailBeforeLaunchAsync(run, "The start was cancelled before the engine was launched.").ConfigureAwait(false);
            throw;
        }

        if (plan is not { Launch: { } launch, Command: { } command })
        {
            var problem = plan.Problem ?? "The server could not be planned.";
            await transitions.FailBeforeLaunchAsync(run, problem).ConfigureAwait(false);
            return new ServerCommandResult(false, problem, run.Current);
        }

        int pid;
        try
        {
            pid = PosixProcesses.Spawn(launch);
        }
        catch (Exception e) when (e is Win32Exception or PlatformNotSupportedException or IOException or UnauthorizedAccessException)
        {
            var reason = $"{engine.ExecutableName} could not be started: {e.Message}";
            await transitions.FailBeforeLaunchAsync(run, reason).ConfigureAwait(false);
            return new ServerCommandResult(false, reason, run.Current);
        }

        run.IsOurChild = true;
        var identity = processes.Identify(pid) ?? new ProcessIdentity(pid, 0);
        // Names only: environment values may be secrets, and every member may read the run log.
        run.Log!.Write($"Started pid {pid} in {launch.WorkingDirectory}: {command.MaskedPreview}");
        runs.Change(run, r =>
        {
            r.Process = identity;
            r.Detail = $"Waiting for {engine.ExecutableName} to listen on {profile.Host}:{profile.Port}.";
        });
        await store.SaveAsync(run).ConfigureAwait(false);
        LogStarted(logger, profile.Name, pid, profile.Port);
        watcher.Watch(run);
        return new ServerCommandResult(true, $"Started \"{profile.Name}\" (pid {pid}); it is loading its model.", run.Current);
    }

    private async Task<SupervisedRun> CreateRunAsync(Profile profile, IEngineDefinition engine, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var row = await store.CreateAsync(profile, engine.Key, now, cancellationToken).ConfigureAwait(false);
        var run = new SupervisedRun(row.Id, profile, engine, new ResolvedModel(profile.ModelRef), now, row.LogPath, row.OutputPath)
        {
            Log = RunLog.Create(row.OutputPath, row.LogPath, time, options.Value.EffectiveMaxRunLogBytes),
        };
        run.Log.Write($"Starting the server of \"{profile.Name}\" ({engine.Key}, model {profile.ModelRef}, {profile.Host}:{profile.Port}).");
        runs.Replace(run)?.Log?.Dispose();
        runs.Change(run, r => r.Detail = "Preparing to start.");
        return run;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Started the server of {Profile} (pid {Pid}, port {Port})")]
    private static partial void LogStarted(ILogger logger, string profile, int pid, int port);
}
