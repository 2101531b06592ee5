using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace MlxManager.Core.Servers;

/// <summary>The outcome of a start, stop or restart.</summary>
/// <param name="Succeeded">The command did what was asked (a start: the process runs; it may still fail while loading).</param>
/// <param name="Message">One sentence for the user.</param>
/// <param name="Server">The server afterwards, when there is one.</param>
public sealed record ServerCommandResult(bool Succeeded, string Message, ServerSnapshot? Server);

/// <summary>
/// Runs the engines: the commands (start, stop, restart, retire, dismiss) and the read side (<see cref="IServerDirectory"/>)
/// of the servers, one per profile (the server id is the profile id). Commands for the same server are serialised by
/// its gate. A hosted service (not a job): it lives as long as the manager; at start it re-attaches to servers left
/// running, at shutdown it leaves them running for the next manager (or stops them, <see cref="ServerOptions.StopServersOnExit"/>).
/// </summary>
/// <remarks>
/// The work is done by its parts: <see cref="ServerLauncher"/> (with <see cref="LaunchPlanner"/>), <see cref="RunWatcher"/>
/// (with <see cref="ReadinessProber"/>), <see cref="ProcessTreeSignals"/>, <see cref="RunTransitions"/>,
/// <see cref="ServerReattacher"/>, <see cref="RunStore"/>, <see cref="CurrentRuns"/>, <see cref="ServerEvents"/> and
/// <see cref="SupervisorWork"/>; <see cref="ServerAutoStart"/> starts auto-start profiles. See docs/ARCHITECTURE.md, "Servers".
/// </remarks>
public sealed class ServerSupervisor : IHostedService, IServerDirectory, IDisposable
{
    /// <summary>The reason of a stop asked for on the Servers page (it becomes the stopped server's detail).</summary>
    public const string StoppedOnRequest = "Stopped on request.";

    private readonly CurrentRuns _runs;
    private readonly ServerEvents _events;
    private readonly RunStore _store;
    private readonly ServerLauncher _launcher;
    private readonly LaunchPlanner _planner;
    private readonly RunTransitions _transitions;
    private readonly RunWatcher _watcher;
    private readonly ServerReattacher _reattacher;
    private readonly SupervisorWork _work;
    private readonly ServerOptions _options;
    private readonly Lock _lock = new();
    private readonly Dictionary<int, SemaphoreSlim> _gates = [];
    private Task? _stopping;

    internal ServerSupervisor(
        CurrentRuns runs,
        ServerEvents events,
        RunStore store,
        ServerLauncher launcher,
        LaunchPlanner planner,
        RunTransitions transitions,
        RunWatcher watcher,
        ServerReattacher reattacher,
        SupervisorWork work,
        IOptions<ServerOptions> options)
    {
        _runs = runs;
        _events = events;
        _store = store;
        _launcher = launcher;
        _planner = planner;
        _transitions = transitions;
        _watcher = watcher;
        _reattacher = reattacher;
        _work = work;
        _options = options.Value;
    }

    /// <inheritdoc />
    public event Action<ServerSnapshot>? Changed
    {
        add => _events.Changed += value;
        remove => _events.Changed -= value;
    }

    /// <inheritdoc />
    public event Action<int, long>? LogAdvanced
    {
        add => _events.LogAdvanced += value;
        remove => _events.LogAdvanced -= value;
    }

    /// <inheritdoc />
    public long Version => _events.Version;

    /// <summary>
    /// Variables the manager sets for every engine on top of the engine command's own (the HF cache the library uses,
    /// offline mode when the manager is offline); the profile's variables win over them. For the command preview.
    /// </summary>
    public IReadOnlyDictionary<string, string> ManagedEnvironment => _planner.ManagedEnvironment;

    /// <summary>Folder of a profile's run logs: <c>&lt;data&gt;/logs/servers/&lt;profile id&gt;</c>.</summary>
    public string LogFolderOf(int profileId) => _store.LogFolderOf(profileId);

    /// <summary>Folder of a profile's run working folders: <c>&lt;data&gt;/servers/&lt;profile id&gt;</c>.</summary>
    public string WorkFolderOf(int profileId) => _store.WorkFolderOf(profileId);

    /// <inheritdoc />
    public IReadOnlyList<ServerSnapshot> Servers =>
        _runs.All().Select(r => r.Current).OrderBy(s => s.StartedAt).ThenBy(s => s.ServerId).ToList();

    /// <inheritdoc />
    public ServerSnapshot? Find(int serverId) => _runs.Get(serverId)?.Current;

    /// <inheritdoc />
    public ServerAvailability CheckAvailable(int serverId)
    {
        var server = Find(serverId);
        if (server is null)
        {
            return new ServerAvailability(null, "That server is not running. Start it on the Servers page.");
        }

        var name = $"The server of \"{server.Profile.Name}\"";
        return server.State switch
        {
            ServerState.Ready => new ServerAvailability(server, null),
            ServerState.Starting or ServerState.Loading => new ServerAvailability(server,
                $"{name} is still loading its model; the chat can start once it is ready."),
            ServerState.Stopping => new ServerAvailability(server, $"{name} is stopping."),
            ServerState.Failed => new ServerAvailability(server, $"{name} failed: {server.Detail}"),
            _ => new ServerAvailability(server, $"{name} is not running. Start it on the Servers page."),
        };
    }

    /// <inheritdoc />
    public async Task<ServerSnapshot?> WaitUntilSettledAsync(int serverId, CancellationToken cancellationToken)
    {
        if (_runs.Get(serverId) is not { } run)
        {
            return null;
        }

        await run.Settled.WaitAsync(cancellationToken).ConfigureAwait(false);
        return run.Current;
    }

    /// <inheritdoc />
    public LogSlice? ReadLog(int serverId, long afterSequence, int max) => _runs.Get(serverId)?.Log?.After(afterSequence, max);

    /// <inheritdoc />
    public string? LogFileOf(int serverId) => _runs.Get(serverId)?.LogPath;

    /// <summary>
    /// Starts the server of <paramref name="profileId"/>. Returns once the process runs (state starting) or the start
    /// failed before that (executable missing, port taken, model not downloaded…: the server is then shown as failed
    /// with that reason). Loading continues in the background; see <see cref="WaitUntilSettledAsync"/>.
    /// </summary>
    public Task<ServerCommandResult> StartServerAsync(int profileId, CancellationToken cancellationToken) =>
        UnderGateAsync(profileId, () => StartLockedAsync(profileId, cancellationToken), cancellationToken);

    /// <summary>
    /// Makes sure the server of <paramref name="profileId"/> runs and waits until it is ready, failed or stopped. Callers
    /// that ask at the same time share one start: whoever finds the server starting, loading or ready waits for that run
    /// (never a second process for one profile). A server that is stopping is started again once it has stopped.
    /// Cancelling only ends this caller's wait; the start goes on for the others. Succeeded means ready; otherwise the
    /// message says why (the engine's reason when it failed while loading).
    /// </summary>
    public async Task<ServerCommandResult> StartAndWaitUntilReadyAsync(int profileId, CancellationToken cancellationToken)
    {
        SupervisedRun? run = null;
        var start = await UnderGateAsync(profileId, async () =>
        {
            var result = Find(profileId) is { IsActive: true, State: not ServerState.Stopping } running
                ? new ServerCommandResult(true, $"The server of \"{running.Profile.Name}\" is {running.State.Word()}.", running)
                : await StartLockedAsync(profileId, CancellationToken.None).ConfigureAwait(false);
            run = _runs.Get(profileId); // the run to wait for, even if another command replaces it afterwards
            return result;
        }, cancellationToken).ConfigureAwait(false);
        if (!start.Succeeded || run is null)
        {
            return start;
        }

        await run.Settled.WaitAsync(cancellationToken).ConfigureAwait(false);
        var settled = run.Current;
        return settled.IsReady
            ? new ServerCommandResult(true, $"\"{settled.Profile.Name}\" is ready.", settled)
            : new ServerCommandResult(false, $"\"{settled.Profile.Name}\" is {settled.State.Word()}: {settled.Detail}", settled);
    }

    /// <summary>Stops the server of <paramref name="serverId"/> and waits until its processes are gone.</summary>
    public Task<ServerCommandResult> StopServerAsync(int serverId, CancellationToken cancellationToken) =>
        StopServerAsync(serverId, StoppedOnRequest, cancellationToken);

    /// <summary>
    /// Stops the server for <paramref name="reason"/> — one sentence such as "Unloaded after 30 min idle." — which is
    /// written to its log and becomes the stopped server's detail (shown on its tile and saved with its run).
    /// </summary>
    public Task<ServerCommandResult> StopServerAsync(int serverId, string reason, CancellationToken cancellationToken) =>
        UnderGateAsync(serverId, () => StopLockedAsync(serverId, reason, cancellationToken), cancellationToken);

    /// <summary>Stops the server (if it runs) and starts it again with the profile as it is now.</summary>
    public Task<ServerCommandResult> RestartServerAsync(int serverId, CancellationToken cancellationToken) =>
        UnderGateAsync(serverId, async () =>
        {
            var stopped = await StopLockedAsync(serverId, "Stopped for a restart.", cancellationToken).ConfigureAwait(false);
            if (!stopped.Succeeded && Find(serverId) is { IsActive: true })
            {
                return stopped;
            }

            return await StartLockedAsync(serverId, cancellationToken).ConfigureAwait(false);
        }, cancellationToken);

    /// <summary>Removes a stopped or failed server from the list (its run stays in the database). False when it is active.</summary>
    public bool Dismiss(int serverId) => _runs.RemoveEnded(serverId);

    /// <summary>
    /// For a profile being deleted: stops its server if it runs, forgets it, and deletes its log and working folders.
    /// Call before deleting the profile (its runs are deleted with it).
    /// </summary>
    public Task<ServerCommandResult> RetireProfileAsync(int profileId, CancellationToken cancellationToken) =>
        UnderGateAsync(profileId, async () =>
        {
            var stop = await StopLockedAsync(profileId, "Stopped because its profile is being deleted.", cancellationToken).ConfigureAwait(false);
            if (Find(profileId) is { IsActive: true })
            {
                return stop;
            }

            Dismiss(profileId);
            _store.DeleteFoldersOf(profileId);
            return new ServerCommandResult(true, stop.Succeeded ? stop.Message : "No server was running.", null);
        }, cancellationToken);

    /// <summary>Starts the watcher and re-attaches to servers left running by an earlier manager.</summary>
    async Task IHostedService.StartAsync(CancellationToken cancellationToken)
    {
        _watcher.Start();
        await _reattacher.ReattachAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Leaves servers running for the next manager (default) or stops them; then waits for the background work. A host
    /// can be stopped twice (WebApplicationFactory's stop and <c>app.Run</c>'s own), the second time after the container
    /// disposed the watcher: every call after the first awaits the first one's work.
    /// </summary>
    Task IHostedService.StopAsync(CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            return _stopping ??= ShutDownAsync(cancellationToken);
        }
    }

    private async Task ShutDownAsync(CancellationToken cancellationToken)
    {
        var runs = _runs.All();
        if (_options.StopServersOnExit)
        {
            await Task.WhenAll(runs.Where(r => r.State.IsActive()).Select(run => StopServerAsync(
                run.ServerId, "Stopped because the manager is shutting down.", cancellationToken))).ConfigureAwait(false);
        }

        // The watcher ran until now so that stopping servers could see them end; the rest are left running.
        await _watcher.StopAsync().ConfigureAwait(false);
        foreach (var run in runs)
        {
            await _watcher.DetachAsync(run).ConfigureAwait(false);
        }

        await _work.WhenIdleAsync(cancellationToken).ConfigureAwait(false);
    }

    public void Dispose()
    {
        foreach (var run in _runs.All())
        {
            run.Watching.Cancel();
            run.Log?.Dispose();
        }
    }

    private async Task<ServerCommandResult> StartLockedAsync(int profileId, CancellationToken cancellationToken) =>
        Find(profileId) is { IsActive: true } running
            ? new ServerCommandResult(false, $"The server of \"{running.Profile.Name}\" is already {running.State.Word()}.", running)
            : await _launcher.LaunchAsync(profileId, cancellationToken).ConfigureAwait(false);

    private async Task<ServerCommandResult> StopLockedAsync(int serverId, string reason, CancellationToken cancellationToken)
    {
        var run = _runs.Get(serverId);
        if (run is null || !run.State.IsActive())
        {
            return new ServerCommandResult(false, "That server is not running.", run?.Current);
        }

        await _transitions.StopAsync(run, reason, cancellationToken).ConfigureAwait(false);
        var final = run.Current;
        return final.State == ServerState.Stopped
            ? new ServerCommandResult(true, $"Stopped \"{run.Profile.Name}\".", final)
            : new ServerCommandResult(!final.IsActive, $"\"{run.Profile.Name}\" is {final.State.Word()}: {final.Detail}", final);
    }

    /// <summary>Runs <paramref name="work"/> holding the server's gate: one start, stop, restart or retire at a time per server.</summary>
    private async Task<T> UnderGateAsync<T>(int serverId, Func<Task<T>> work, CancellationToken cancellationToken)
    {
        SemaphoreSlim gate;
        lock (_lock)
        {
            if (!_gates.TryGetValue(serverId, out gate!))
            {
                _gates[serverId] = gate = new SemaphoreSlim(1, 1);
            }
        }

        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await work().ConfigureAwait(false);
        }
        finally
        {
            gate.Release();
        }
    }
}
