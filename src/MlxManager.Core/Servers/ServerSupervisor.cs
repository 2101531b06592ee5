using System.Collections;
using System.ComponentModel;
using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MlxManager.Core.Data;
using MlxManager.Core.Engines;
using MlxManager.Core.Library;
using MlxManager.Core.Metrics;
using MlxManager.Core.Profiles;
using MlxManager.Core.Servers.Processes;

namespace MlxManager.Core.Servers;

/// <summary>The outcome of a start, stop or restart.</summary>
/// <param name="Succeeded">The command did what was asked (a start: the process runs; it may still fail while loading).</param>
/// <param name="Message">One sentence for the user.</param>
/// <param name="Server">The server afterwards, when there is one.</param>
public sealed record ServerCommandResult(bool Succeeded, string Message, ServerSnapshot? Server);

/// <summary>
/// Runs the engines: starts a profile's server as a detached process writing into a per-run log, proves it ready
/// with a one-token completion, watches it (exit, the engine's fatal log signature, the load timeout), stops it
/// (SIGTERM to the process tree, SIGKILL after a grace period), and re-attaches to servers that kept running
/// while the manager restarted. A hosted service (not a job): it lives as long as the manager.
/// </summary>
/// <remarks>
/// One server per profile; the server id is the profile id. Commands for the same profile are serialised.
/// Every run is a <see cref="ServerRun"/> row (process id + start time + port + log paths), so a new manager can
/// tell its servers from processes that merely reuse a process id. See docs/ARCHITECTURE.md, "Servers".
/// </remarks>
public sealed partial class ServerSupervisor : IHostedService, IServerDirectory, IDisposable
{
    private readonly IServiceScopeFactory _scopes;
    private readonly EngineRegistry _engines;
    private readonly EngineCommandBuilder _commands;
    private readonly ProfileValidator _validator;
    private readonly ProfileModelResolver _models;
    private readonly HfEnvironment _huggingFace;
    private readonly ReadinessChecker _readiness;
    private readonly PortProbe _ports;
    private readonly MetricsSampler _metrics;
    private readonly IProcessTable _processes;
    private readonly DataDirectory _data;
    private readonly TimeProvider _time;
    private readonly ServerOptions _options;
    private readonly ILogger<ServerSupervisor> _logger;
    private readonly Lock _lock = new();
    private readonly Dictionary<int, SupervisedRun> _servers = [];
    private readonly Dictionary<int, SemaphoreSlim> _gates = [];
    private readonly Lock _treeLock = new();
    private readonly IProcessTable _treeTable = ProcessTable.ForCurrentPlatform();
    private readonly List<ProcessUsage> _treeBuffer = [];
    private readonly CancellationTokenSource _shutdown = new();
    private readonly CancellationTokenSource _watchStop = new();
    private readonly HashSet<SupervisedRun> _watched = [];
    private TaskCompletionSource _wake = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task _autoStart = Task.CompletedTask;
    private Task _watchLoop = Task.CompletedTask;
    private long _version;
    private int _disposed;

    public ServerSupervisor(
        IServiceScopeFactory scopes,
        EngineRegistry engines,
        EngineCommandBuilder commands,
        ProfileValidator validator,
        ProfileModelResolver models,
        HfEnvironment huggingFace,
        ReadinessChecker readiness,
        PortProbe ports,
        MetricsSampler metrics,
        IProcessTable processes,
        DataDirectory data,
        TimeProvider time,
        IOptions<ServerOptions> options,
        ILogger<ServerSupervisor> logger)
    {
        _scopes = scopes;
        _engines = engines;
        _commands = commands;
        _validator = validator;
        _models = models;
        _huggingFace = huggingFace;
        _readiness = readiness;
        _ports = ports;
        _metrics = metrics;
        _processes = processes;
        _data = data;
        _time = time;
        _options = options.Value;
        _logger = logger;
    }

    /// <inheritdoc />
    public event Action<ServerSnapshot>? Changed;

    /// <inheritdoc />
    public event Action<int, long>? LogAdvanced;

    /// <summary>Folder of a profile's run logs: <c>&lt;data&gt;/logs/servers/&lt;profile id&gt;</c>.</summary>
    public string LogFolderOf(int profileId) => _data.PathFor("logs", "servers", profileId.ToString(CultureInfo.InvariantCulture));

    /// <summary>Folder of a profile's run working folders: <c>&lt;data&gt;/servers/&lt;profile id&gt;</c>.</summary>
    public string WorkFolderOf(int profileId) => _data.PathFor("servers", profileId.ToString(CultureInfo.InvariantCulture));

    /// <inheritdoc />
    public long Version => Interlocked.Read(ref _version);

    /// <inheritdoc />
    public IReadOnlyList<ServerSnapshot> Servers
    {
        get
        {
            lock (_lock)
            {
                return _servers.Values.Select(r => r.Current).OrderBy(s => s.StartedAt).ThenBy(s => s.ServerId).ToList();
            }
        }
    }

    /// <inheritdoc />
    public ServerSnapshot? Find(int serverId)
    {
        lock (_lock)
        {
            return _servers.TryGetValue(serverId, out var run) ? run.Current : null;
        }
    }

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
        SupervisedRun? run;
        lock (_lock)
        {
            _servers.TryGetValue(serverId, out run);
        }

        if (run is null)
        {
            return null;
        }

        await run.Settled.WaitAsync(cancellationToken).ConfigureAwait(false);
        return run.Current;
    }

    /// <inheritdoc />
    public LogSlice? ReadLog(int serverId, long afterSequence, int max)
    {
        lock (_lock)
        {
            return _servers.TryGetValue(serverId, out var run) ? run.Log?.After(afterSequence, max) : null;
        }
    }

    /// <inheritdoc />
    public string? LogFileOf(int serverId)
    {
        lock (_lock)
        {
            return _servers.TryGetValue(serverId, out var run) ? run.LogPath : null;
        }
    }

    /// <summary>
    /// Starts the server of <paramref name="profileId"/>. Returns once the process runs (state starting) or the start
    /// failed before that (executable missing, port taken, model not downloaded…: the server is then shown as failed
    /// with that reason). Loading continues in the background; see <see cref="WaitUntilSettledAsync"/>.
    /// </summary>
    public Task<ServerCommandResult> StartServerAsync(int profileId, CancellationToken cancellationToken) =>
        UnderGateAsync(profileId, () => StartLockedAsync(profileId, cancellationToken), cancellationToken);

    /// <summary>Stops the server of <paramref name="serverId"/> and waits until its processes are gone.</summary>
    public Task<ServerCommandResult> StopServerAsync(int serverId, CancellationToken cancellationToken) =>
        UnderGateAsync(serverId, () => StopLockedAsync(serverId, "Stopped on request.", cancellationToken), cancellationToken);

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
    public bool Dismiss(int serverId)
    {
        ServerSnapshot? removed = null;
        lock (_lock)
        {
            if (_servers.TryGetValue(serverId, out var run) && !run.State.IsActive())
            {
                _servers.Remove(serverId);
                removed = run.Current;
            }
        }

        if (removed is null)
        {
            return false;
        }

        Interlocked.Increment(ref _version);
        Publish(removed);
        return true;
    }

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
            DeleteFolder(LogFolderOf(profileId));
            DeleteFolder(WorkFolderOf(profileId));
            return new ServerCommandResult(true, stop.Succeeded ? stop.Message : "No server was running.", null);
        }, cancellationToken);

    /// <summary>Re-attaches to servers left running by an earlier manager, then starts auto-start profiles in the background.</summary>
    async Task IHostedService.StartAsync(CancellationToken cancellationToken)
    {
        _watchLoop = Task.Run(() => WatchLoopAsync(_watchStop.Token), CancellationToken.None);
        await ReattachAsync(cancellationToken).ConfigureAwait(false);
        if (_options.AutoStart)
        {
            _autoStart = Task.Run(() => AutoStartAsync(_shutdown.Token), CancellationToken.None);
        }
    }

    /// <summary>Leaves servers running for the next manager (default) or stops them (<see cref="ServerOptions.StopServersOnExit"/>).</summary>
    async Task IHostedService.StopAsync(CancellationToken cancellationToken)
    {
        // A host stopped twice at once (WebApplicationFactory's stop and Program's Run) may dispose this after the first stop.
        if (Volatile.Read(ref _disposed) == 1)
        {
            return;
        }

        await _shutdown.CancelAsync().ConfigureAwait(false);
        await _autoStart.WaitAsync(cancellationToken).ConfigureAwait(false);
        List<SupervisedRun> runs;
        lock (_lock)
        {
            runs = [.. _servers.Values];
        }

        if (_options.StopServersOnExit)
        {
            await Task.WhenAll(runs.Where(r => r.State.IsActive()).Select(run => UnderGateAsync(
                run.ServerId, () => StopLockedAsync(run.ServerId, "Stopped because the manager is shutting down.", cancellationToken), cancellationToken)))
                .ConfigureAwait(false);
        }

        // The watch loop ran until now so that stopping servers could see them end; the rest are left running.
        await _watchStop.CancelAsync().ConfigureAwait(false);
        await _watchLoop.ConfigureAwait(false);
        foreach (var run in runs)
        {
            await DetachAsync(run).ConfigureAwait(false);
        }
    }

    public void Dispose()
    {
        // Registered as itself, the directory and the hosted service: the container may dispose it more than once.
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        _shutdown.Cancel();
        _watchStop.Cancel();
        lock (_lock)
        {
            foreach (var run in _servers.Values)
            {
                run.Watching.Cancel();
                run.Log?.Dispose();
            }
        }

        _shutdown.Dispose();
        _watchStop.Dispose();
    }

    private async Task<ServerCommandResult> StartLockedAsync(int profileId, CancellationToken cancellationToken)
    {
        if (Find(profileId) is { IsActive: true } running)
        {
            return new ServerCommandResult(false, $"The server of \"{running.Profile.Name}\" is already {running.State.Word()}.", running);
        }

        Profile? profile;
        await using (var scope = _scopes.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
            profile = await db.Profiles.AsNoTracking().FirstOrDefaultAsync(p => p.Id == profileId, cancellationToken).ConfigureAwait(false);
        }

        if (profile is null)
        {
            return new ServerCommandResult(false, "That profile does not exist (any more).", null);
        }

        if (!_engines.TryGet(profile.Engine, out var engine))
        {
            return new ServerCommandResult(false, $"The profile \"{profile.Name}\" uses an unknown engine '{profile.Engine}'. Edit the profile and choose one.", null);
        }

        // The run exists (row, files, tile) before anything can fail, so that a failure is shown where the server would be.
        var run = await CreateRunAsync(profile, engine, cancellationToken).ConfigureAwait(false);
        var problem = await PrepareAsync(run, profile, cancellationToken).ConfigureAwait(false);
        if (problem.Message is { } message)
        {
            await FailBeforeLaunchAsync(run, message).ConfigureAwait(false);
            return new ServerCommandResult(false, message, run.Current);
        }

        var command = problem.Command!;
        var launch = new DetachedLaunch(
            command.Executable,
            command.Arguments,
            EngineEnvironment(command.Environment),
            WorkFolderFor(run),
            run.OutputPath);
        int pid;
        try
        {
            pid = PosixProcesses.Spawn(launch);
        }
        catch (Exception e) when (e is Win32Exception or PlatformNotSupportedException or IOException or UnauthorizedAccessException)
        {
            var reason = $"{engine.ExecutableName} could not be started: {e.Message}";
            await FailBeforeLaunchAsync(run, reason).ConfigureAwait(false);
            return new ServerCommandResult(false, reason, run.Current);
        }

        run.IsOurChild = true;
        var identity = _processes.Identify(pid) ?? new ProcessIdentity(pid, 0);
        run.Log!.Write($"Started pid {pid} in {launch.WorkingDirectory}: {command.Preview}");
        Change(run, r =>
        {
            r.Process = identity;
            r.Detail = $"Waiting for {engine.ExecutableName} to listen on {profile.Host}:{profile.Port}.";
        });
        await PersistAsync(run).ConfigureAwait(false);
        _metrics.Track(run.ServerId, identity);
        LogStarted(_logger, profile.Name, pid, profile.Port);
        Watch(run);
        return new ServerCommandResult(true, $"Started \"{profile.Name}\" (pid {pid}); it is loading its model.", run.Current);
    }

    private async Task<(string? Message, EngineCommand? Command)> PrepareAsync(SupervisedRun run, Profile profile, CancellationToken cancellationToken)
    {
        var model = await _models.ResolveAsync(profile.ModelRef, cancellationToken).ConfigureAwait(false);
        run.Model = model.Resolved;
        var validation = _validator.Validate(profile, model.Facts);
        if (!validation.IsValid)
        {
            var errors = validation.Errors.SelectMany(e => e.Value).ToList();
            return ($"The profile is not valid: {string.Join(" ", errors)} Edit the profile first.", null);
        }

        if (model.Problem is { } modelProblem)
        {
            return (modelProblem, null);
        }

        var built = _commands.Build(profile, model.Resolved);
        if (built.Command is null)
        {
            return (built.Problem, null);
        }

        Change(run, r => r.CommandLine = built.Command.Preview);
        if (!await _ports.IsFreeAsync(profile.Host, profile.Port, cancellationToken).ConfigureAwait(false))
        {
            return (await DescribeTakenPortAsync(profile, cancellationToken).ConfigureAwait(false), null);
        }

        return (null, built.Command);
    }

    private async Task<string> DescribeTakenPortAsync(Profile profile, CancellationToken cancellationToken)
    {
        var holder = await _ports.FindHolderAsync(profile.Port, cancellationToken).ConfigureAwait(false);
        var who = holder is null ? "another program" : holder.Describe();
        if (holder is { Pid: > 0 })
        {
            lock (_lock)
            {
                var ours = _servers.Values.FirstOrDefault(r => r.Process?.Pid == holder.Pid && r.State.IsActive());
                if (ours is not null)
                {
                    who = $"the server of the profile \"{ours.Profile.Name}\" (pid {holder.Pid})";
                }
            }
        }

        return $"Port {profile.Port} on {profile.Host} is already in use by {who}. Stop it, or give the profile another port.";
    }

    private async Task<SupervisedRun> CreateRunAsync(Profile profile, IEngineDefinition engine, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        var logs = Directory.CreateDirectory(LogFolderOf(profile.Id)).FullName;
        var row = new ServerRun
        {
            ProfileId = profile.Id,
            ProfileName = profile.Name,
            Engine = engine.Key,
            ModelReference = profile.ModelRef,
            Host = profile.Host,
            Port = profile.Port,
            State = ServerState.Starting,
            StartedAtUtc = now.UtcDateTime,
            LogPath = "",
            OutputPath = "",
            WorkingDirectory = "",
        };
        await using (var scope = _scopes.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
            db.ServerRuns.Add(row);
            await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
            var runName = row.Id.ToString(CultureInfo.InvariantCulture);
            row.LogPath = Path.Combine(logs, runName + ".log");
            row.OutputPath = Path.Combine(logs, runName + ".out");
            row.WorkingDirectory = Path.Combine(WorkFolderOf(profile.Id), "run-" + runName);
            await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
            await RotateAsync(db, profile.Id, cancellationToken).ConfigureAwait(false);
        }

        Directory.CreateDirectory(row.WorkingDirectory);
        var run = new SupervisedRun(row.Id, profile, engine, new ResolvedModel(profile.ModelRef), now, row.LogPath, row.OutputPath)
        {
            Log = RunLog.Create(row.OutputPath, row.LogPath, _time),
        };
        run.Log.Write($"Starting the server of \"{profile.Name}\" ({engine.Key}, model {profile.ModelRef}, {profile.Host}:{profile.Port}).");
        SupervisedRun? previous;
        lock (_lock)
        {
            _servers.TryGetValue(profile.Id, out previous);
            _servers[profile.Id] = run;
        }

        previous?.Log?.Dispose();
        Change(run, r => r.Detail = "Preparing to start.");
        return run;
    }

    private string WorkFolderFor(SupervisedRun run) =>
        Path.Combine(WorkFolderOf(run.ServerId), "run-" + run.RunId.ToString(CultureInfo.InvariantCulture));

    private async Task FailBeforeLaunchAsync(SupervisedRun run, string reason)
    {
        run.Log?.Write($"Not started: {reason}");
        Change(run, r =>
        {
            r.State = ServerState.Failed;
            r.Detail = reason;
            r.EndedAt = _time.GetUtcNow();
        });
        await PersistAsync(run).ConfigureAwait(false);
        run.Log?.Dispose();
        run.Watching.Cancel();
        run.MarkEnded();
        LogNotStarted(_logger, run.Profile.Name, reason);
    }

    /// <summary>
    /// Variables the manager sets for every engine on top of the engine command's own (the HF cache the library uses,
    /// offline mode when the manager is offline); the profile's variables win over them. For the command preview.
    /// </summary>
    public IReadOnlyDictionary<string, string> ManagedEnvironment
    {
        get
        {
            var managed = new Dictionary<string, string>(StringComparer.Ordinal) { ["HF_HUB_CACHE"] = _huggingFace.HubCache };
            if (_huggingFace.Offline)
            {
                managed["HF_HUB_OFFLINE"] = "1";
            }

            return managed;
        }
    }

    /// <summary>The engine's environment: the manager's own minus its private settings, the HF cache it uses, then the command's additions.</summary>
    private Dictionary<string, string> EngineEnvironment(IReadOnlyDictionary<string, string> additions)
    {
        var environment = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (DictionaryEntry entry in Environment.GetEnvironmentVariables())
        {
            var name = (string)entry.Key;
            if (name.StartsWith("ASPNETCORE_", StringComparison.OrdinalIgnoreCase)
                || name.StartsWith("MLXMANAGER_", StringComparison.OrdinalIgnoreCase)
                || name.StartsWith("MlxManager__", StringComparison.OrdinalIgnoreCase))
            {
                continue; // the manager's own settings are not the engine's business
            }

            environment[name] = entry.Value as string ?? "";
        }

        // The engines must look in the same HF cache as the manager's library (which may be configured, not inherited).
        foreach (var (name, value) in ManagedEnvironment)
        {
            environment[name] = value;
        }

        foreach (var (name, value) in additions)
        {
            environment[name] = value;
        }

        return environment;
    }

    private async Task<ServerCommandResult> StopLockedAsync(int serverId, string reason, CancellationToken cancellationToken)
    {
        SupervisedRun? run;
        lock (_lock)
        {
            _servers.TryGetValue(serverId, out run);
        }

        if (run is null || !run.State.IsActive())
        {
            return new ServerCommandResult(false, "That server is not running.", run?.Current);
        }

        run.StopRequested = true;
        await run.Probing.CancelAsync().ConfigureAwait(false);
        if (run.State != ServerState.Stopping)
        {
            run.Log?.Write($"Stop requested: {reason}");
            Change(run, r =>
            {
                r.State = ServerState.Stopping;
                r.Detail = "Stopping: asked the engine's processes to end (SIGTERM).";
            });
            await PersistAsync(run).ConfigureAwait(false);
        }

        await TerminateAsync(run, cancellationToken).ConfigureAwait(false);
        var final = run.Current;
        return final.State == ServerState.Stopped
            ? new ServerCommandResult(true, $"Stopped \"{run.Profile.Name}\".", final)
            : new ServerCommandResult(!final.IsActive, $"\"{run.Profile.Name}\" is {final.State.Word()}: {final.Detail}", final);
    }

    /// <summary>SIGTERM to the process tree, SIGKILL after the grace period; returns once the run has ended (or gave up waiting).</summary>
    private async Task TerminateAsync(SupervisedRun run, CancellationToken cancellationToken)
    {
        if (run.Process is not { } root)
        {
            return;
        }

        var members = CollectTree(root);
        var signalled = SignalTree(root, members, PosixProcesses.SigTerm);
        run.Log?.Write($"Sent SIGTERM to {signalled} process(es) (pid {root.Pid} and its descendants).");
        if (await WaitEndedAsync(run, _options.EffectiveGracePeriod, cancellationToken).ConfigureAwait(false))
        {
            return;
        }

        members = [.. members.Union(CollectTree(root))];
        signalled = SignalTree(root, members, PosixProcesses.SigKill);
        run.Log?.Write($"Still running after {_options.EffectiveGracePeriod.TotalSeconds:0.#} s: sent SIGKILL to {signalled} process(es).");
        LogKilled(_logger, run.Profile.Name, root.Pid);
        if (!await WaitEndedAsync(run, TimeSpan.FromSeconds(10), cancellationToken).ConfigureAwait(false))
        {
            LogStuck(_logger, run.Profile.Name, root.Pid);
        }
    }

    private async Task<bool> WaitEndedAsync(SupervisedRun run, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (!run.IsWatched)
        {
            // Nothing watches it (should not happen for a run with a process): poll the process itself.
            var deadline = _time.GetUtcNow() + timeout;
            while (run.Process is { } identity && _processes.IsRunning(identity) && _time.GetUtcNow() < deadline)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(50), _time, cancellationToken).ConfigureAwait(false);
            }

            return run.Process is not { } p || !_processes.IsRunning(p);
        }

        try
        {
            await run.Ended.WaitAsync(timeout, _time, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    private List<ProcessIdentity> CollectTree(ProcessIdentity root)
    {
        lock (_treeLock)
        {
            _treeTable.Refresh();
            return _treeTable.TryCollectTree(root, _treeBuffer) ? _treeBuffer.Select(p => p.Identity).ToList() : [];
        }
    }

    private int SignalTree(ProcessIdentity root, IEnumerable<ProcessIdentity> members, int signal)
    {
        var count = 0;
        var rootRuns = _processes.IsRunning(root);
        // The engine leads its own session and process group: one signal reaches every process still in it
        // (a wrapper's child, mlx-openai-server's model process); descendants that left the group are signalled
        // one by one, each checked against its start time first so a reused process id is never hit.
        if (rootRuns && PosixProcesses.SignalGroup(root.Pid, signal))
        {
            count++;
        }

        foreach (var member in members.Where(m => m != root))
        {
            if (_processes.IsRunning(member) && PosixProcesses.Signal(member.Pid, signal))
            {
                count++;
            }
        }

        return count;
    }

    /// <summary>Begins watching a run: the one watch loop checks it from now on, and its readiness probe starts.</summary>
    private void Watch(SupervisedRun run)
    {
        run.LastOutput = _time.GetUtcNow();
        run.QuietFlushed = true;
        run.IsWatched = true;
        run.ProbeTask = Task.Run(() => ProbeUntilReadyAsync(run), CancellationToken.None);
        lock (_lock)
        {
            _watched.Add(run);
        }

        Wake();
    }

    /// <summary>Makes the watch loop look at once (a run was added) instead of after its ready interval.</summary>
    private void Wake()
    {
        lock (_lock)
        {
            _wake.TrySetResult();
        }
    }

    /// <summary>
    /// The one loop that watches every run (output, fatal signature, exit, load timeout): every
    /// <see cref="ServerOptions.WatchIntervalWhileLoading"/> while any run starts, loads, stops or has output that may
    /// still complete a fatal signature, every <see cref="ServerOptions.WatchIntervalWhenReady"/> otherwise. One timer for
    /// all servers keeps the manager's idle cost flat as servers are added.
    /// </summary>
    private async Task WatchLoopAsync(CancellationToken token)
    {
        while (!token.IsCancellationRequested)
        {
            List<SupervisedRun> runs;
            lock (_lock)
            {
                runs = [.. _watched];
            }

            foreach (var run in runs)
            {
                try
                {
                    if (await WatchOnceAsync(run).ConfigureAwait(false))
                    {
                        lock (_lock)
                        {
                            _watched.Remove(run);
                        }
                    }
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    LogWatchFailed(_logger, run.Profile.Name, e);
                    await FailAsync(run, $"The manager lost track of the server: {e.Message}", null).ConfigureAwait(false);
                }
            }

            var busy = runs.Any(r => r.State != ServerState.Ready || !r.QuietFlushed);
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

            // Nothing to watch: sleep until a run is added (Wake) or the loop is stopped.
            var interval = runs.Count == 0 ? Timeout.InfiniteTimeSpan : busy ? _options.LoadingInterval : _options.ReadyInterval;
            await Task.WhenAny(woken, Task.Delay(interval, _time, token)).ConfigureAwait(false);
        }
    }

    /// <summary>One check of one run. True once the run has ended (and is final).</summary>
    private async Task<bool> WatchOnceAsync(SupervisedRun run)
    {
        if (run.Watching.IsCancellationRequested)
        {
            return true; // detached
        }

        var now = _time.GetUtcNow();
        var lines = run.Log?.ReadNewOutput() ?? [];
        if (lines.Count > 0)
        {
            run.LastOutput = now;
            run.QuietFlushed = false;
            RaiseLogAdvanced(run.ServerId, lines[^1].Sequence);
            foreach (var line in lines)
            {
                if (run.Watcher.Observe(line.Text) is { } match)
                {
                    await FailAsync(run, FatalReason(run, match), null).ConfigureAwait(false);
                }
            }
        }
        else if (!run.QuietFlushed && now - run.LastOutput >= _options.QuietBeforeFlush)
        {
            run.QuietFlushed = true;
            if (run.Watcher.Flush() is { } match)
            {
                await FailAsync(run, FatalReason(run, match), null).ConfigureAwait(false);
            }
        }

        if (CheckExit(run) is { } exit)
        {
            await FinishAsync(run, exit).ConfigureAwait(false);
            return true;
        }

        if (run.State is ServerState.Starting or ServerState.Loading && now - run.WatchedSince > _options.EffectiveLoadTimeout)
        {
            await FailAsync(run,
                $"It did not answer a one-token completion within {Describe(_options.EffectiveLoadTimeout)} (the load timeout, setting {ServerOptions.SectionName}:LoadTimeout).",
                null).ConfigureAwait(false);
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

        return _processes.IsRunning(process) ? null : ProcessExit.Unknown;
    }

    private async Task FinishAsync(SupervisedRun run, ProcessExit exit)
    {
        var wasOurChild = run.IsOurChild;
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

        fatal ??= run.Watcher.Flush();
        if (lines.Count > 0)
        {
            RaiseLogAdvanced(run.ServerId, lines[^1].Sequence);
        }

        var now = _time.GetUtcNow();
        run.Log?.Write($"The engine {exit.Describe()}.");
        var failureLines = run.Log?.Tail(_options.FailureLines, engineOnly: true).Select(l => l.Text).ToList() ?? [];
        var state = run.State;
        if (run.StopRequested && state != ServerState.Failed)
        {
            Change(run, r =>
            {
                r.State = ServerState.Stopped;
                r.Detail = exit.ExitCode is 0 or null && exit.Signal is null or PosixProcesses.SigTerm
                    ? "Stopped."
                    : $"Stopped (the engine {exit.Describe()}).";
                r.ExitCode = exit.ExitCode;
                r.EndedAt = now;
            });
        }
        else if (state == ServerState.Failed)
        {
            Change(run, r =>
            {
                r.ExitCode = exit.ExitCode;
                r.EndedAt = now;
            });
        }
        else
        {
            var when = state == ServerState.Ready ? $"after serving for {Describe(now - (run.Current.ReadyAt ?? now))}" : "before it was ready";
            var traceback = fatal?.Summary ?? TracebackSummary.LastException(failureLines);
            var reason = $"{run.Engine.ExecutableName} {exit.Describe()} {when}." + (traceback is null ? "" : $" {traceback}");
            Change(run, r =>
            {
                r.State = ServerState.Failed;
                r.Detail = reason;
                r.FailureLines = failureLines;
                r.ExitCode = exit.ExitCode;
                r.EndedAt = now;
            });
            LogFailed(_logger, run.Profile.Name, reason);
        }

        _metrics.Untrack(run.ServerId);
        await run.Probing.CancelAsync().ConfigureAwait(false);
        await PersistAsync(run).ConfigureAwait(false);
        run.Log?.Dispose();
        run.IsWatched = false;
        run.MarkEnded();
        if (wasOurChild && run.Process is { } root)
        {
            // Whatever of its process group outlived it (a model process of a crashed parent) goes too. Its process
            // id was reaped a moment ago; the group id stays reserved while any member lives.
            _ = Task.Run(() => CleanUpGroupAsync(root.Pid), CancellationToken.None);
        }

        LogEnded(_logger, run.Profile.Name, run.Current.State.Word());
    }

    private async Task CleanUpGroupAsync(int group)
    {
        if (!PosixProcesses.SignalGroup(group, PosixProcesses.SigTerm))
        {
            return; // nothing left
        }

        var deadline = _time.GetUtcNow() + _options.EffectiveGracePeriod;
        while (_time.GetUtcNow() < deadline)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(100), _time).ConfigureAwait(false);
            if (!PosixProcesses.SignalGroup(group, 0))
            {
                return;
            }
        }

        PosixProcesses.SignalGroup(group, PosixProcesses.SigKill);
    }

    private async Task FailAsync(SupervisedRun run, string reason, int? exitCode)
    {
        if (run.State is ServerState.Failed or ServerState.Stopped || run.StopRequested)
        {
            return;
        }

        run.Log?.Write($"Failed: {reason}");
        var failureLines = run.Log?.Tail(_options.FailureLines, engineOnly: true).Select(l => l.Text).ToList() ?? [];
        Change(run, r =>
        {
            r.State = ServerState.Failed;
            r.Detail = reason;
            r.FailureLines = failureLines;
            r.ExitCode = exitCode;
        });
        LogFailed(_logger, run.Profile.Name, reason);
        await run.Probing.CancelAsync().ConfigureAwait(false);
        await PersistAsync(run).ConfigureAwait(false);
        // A failed engine that still runs holds memory and its port: end it. Its exit is recorded by the watch loop.
        _ = Task.Run(() => TerminateAsync(run, CancellationToken.None), CancellationToken.None);
    }

    /// <summary>Probes until a one-token completion comes back (ready), or the run fails, stops or is detached.</summary>
    private async Task ProbeUntilReadyAsync(SupervisedRun run)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(run.Probing.Token, run.Watching.Token);
        var token = linked.Token;
        var probe = run.Engine.BuildReadinessProbe(run.Model);
        var baseUrl = ServerSnapshot.BaseUrlFor(run.Profile.Host, run.Profile.Port);
        var refusals = 0;
        try
        {
            while (!token.IsCancellationRequested && run.State is ServerState.Starting or ServerState.Loading)
            {
                var health = await _readiness.CheckHealthAsync(baseUrl, run.Engine, probe, token).ConfigureAwait(false);
                if (!health.Listening)
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(250), _time, token).ConfigureAwait(false);
                    continue;
                }

                var detail = health.Verdict switch
                {
                    HealthVerdict.Loading => "Loading the model",
                    HealthVerdict.Loaded => "The engine reports the model loaded; waiting for a first answer",
                    _ => "Listening; loading the model (waiting for a first one-token answer)",
                };
                SetLoading(run, health.Detail is { } d ? $"{detail} ({d})." : detail + ".");
                if (health.Verdict == HealthVerdict.Loading)
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(500), _time, token).ConfigureAwait(false);
                    continue;
                }

                var remaining = _options.EffectiveLoadTimeout - (_time.GetUtcNow() - run.WatchedSince);
                if (remaining <= TimeSpan.Zero)
                {
                    return; // the watch loop reports the timeout
                }

                var answer = await _readiness.ProbeCompletionAsync(baseUrl, probe, remaining, token).ConfigureAwait(false);
                if (answer.Succeeded)
                {
                    await SetReadyAsync(run).ConfigureAwait(false);
                    return;
                }

                if (answer.StatusCode is >= 400 and < 500 and not 408 and not 429)
                {
                    refusals++;
                    SetLoading(run, $"The engine answered the readiness request with HTTP {answer.StatusCode}: {answer.Body}");
                    if (refusals >= 5)
                    {
                        await FailAsync(run, $"The engine is up but refuses the readiness request (HTTP {answer.StatusCode}): {answer.Body}", null).ConfigureAwait(false);
                        return;
                    }
                }
                else
                {
                    refusals = 0;
                }

                await Task.Delay(TimeSpan.FromMilliseconds(answer.Listening ? 1000 : 250), _time, token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            // Stopped, failed or detached: nothing more to prove.
        }
    }

    private void SetLoading(SupervisedRun run, string detail)
    {
        if (run.State is not (ServerState.Starting or ServerState.Loading))
        {
            return;
        }

        var current = run.Current;
        if (current.State == ServerState.Loading && current.Detail == detail)
        {
            return;
        }

        if (current.State == ServerState.Starting)
        {
            run.Log?.Write("The engine answers on its port; loading the model.");
        }

        Change(run, r =>
        {
            if (r.State is ServerState.Starting or ServerState.Loading)
            {
                r.State = ServerState.Loading;
                r.Detail = detail;
            }
        });
        if (current.State == ServerState.Starting)
        {
            _ = PersistAsync(run);
        }
    }

    private async Task SetReadyAsync(SupervisedRun run)
    {
        var now = _time.GetUtcNow();
        var took = Describe(now - run.WatchedSince);
        var changed = false;
        Change(run, r =>
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
        LogReady(_logger, run.Profile.Name, run.Reattached ? "re-attaching" : "starting", took);
        await PersistAsync(run).ConfigureAwait(false);
    }

    private async Task ReattachAsync(CancellationToken cancellationToken)
    {
        List<ServerRun> rows;
        List<Profile> profiles;
        await using (var scope = _scopes.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
            var active = new[] { ServerState.Starting, ServerState.Loading, ServerState.Ready, ServerState.Stopping };
            rows = await db.ServerRuns.AsNoTracking().Where(r => active.Contains(r.State)).OrderBy(r => r.Id).ToListAsync(cancellationToken).ConfigureAwait(false);
            var ids = rows.Select(r => r.ProfileId).Distinct().ToList();
            profiles = await db.Profiles.AsNoTracking().Where(p => ids.Contains(p.Id)).ToListAsync(cancellationToken).ConfigureAwait(false);
        }

        foreach (var row in rows)
        {
            var profile = profiles.FirstOrDefault(p => p.Id == row.ProfileId);
            if (profile is null || !_engines.TryGet(row.Engine, out var engine))
            {
                continue;
            }

            // The profile may have changed since: the server runs with what it was started with.
            var started = Copy(profile, row);
            var run = new SupervisedRun(row.Id, started, engine, new ResolvedModel(row.ModelReference, row.ModelIsMultimodal),
                new DateTimeOffset(row.StartedAtUtc, TimeSpan.Zero), row.LogPath, row.OutputPath)
            {
                Reattached = true,
                WatchedSince = _time.GetUtcNow(),
            };
            run.Log = RunLog.Resume(row.OutputPath, row.LogPath, _time);
            Change(run, r =>
            {
                r.CommandLine = row.CommandLine;
                r.ReadyAt = row.ReadyAtUtc is { } ready ? new DateTimeOffset(ready, TimeSpan.Zero) : null;
            });
            lock (_lock)
            {
                if (_servers.TryGetValue(row.ProfileId, out var older))
                {
                    older.Log?.Dispose();
                }

                _servers[row.ProfileId] = run;
            }

            var identity = row.Pid is { } pid && row.ProcessStartTime is { } startTime ? new ProcessIdentity(pid, startTime) : (ProcessIdentity?)null;
            if (identity is not { } process || !_processes.IsRunning(process))
            {
                var backlog = run.Log.ReadNewOutput();
                run.Log.Write("The manager restarted and found this server's process gone.");
                var failureLines = run.Log.Tail(_options.FailureLines, engineOnly: true).Select(l => l.Text).ToList();
                var stopping = row.State == ServerState.Stopping;
                var reason = stopping
                    ? "Stopped (it ended while the manager was not running)."
                    : $"{engine.ExecutableName} ended while the manager was not running (pid {row.Pid?.ToString(CultureInfo.InvariantCulture) ?? "unknown"}); its exit status is unknown."
                      + (TracebackSummary.LastException(failureLines) is { } traceback ? $" {traceback}" : "");
                Change(run, r =>
                {
                    r.State = stopping ? ServerState.Stopped : ServerState.Failed;
                    r.Detail = reason;
                    r.FailureLines = stopping ? [] : failureLines;
                    r.Process = identity;
                    r.EndedAt = _time.GetUtcNow();
                });
                LogGoneWhileAway(_logger, profile.Name, backlog.Count);
                await PersistAsync(run).ConfigureAwait(false);
                run.Log.Dispose();
                run.MarkEnded();
                continue;
            }

            var answers = await PortProbe.AnswersAsync(row.Host, row.Port, TimeSpan.FromSeconds(1), cancellationToken).ConfigureAwait(false);
            var pending = run.Log.PendingBacklog;
            run.Log.Write($"Re-attached after a manager restart to pid {process.Pid} (same process: its start time matches)."
                          + (pending > 0 ? $" The next {pending} line(s) were written while no manager was running; their times are when they were read." : ""));
            Change(run, r =>
            {
                r.Process = process;
                r.State = row.State == ServerState.Stopping ? ServerState.Stopping : row.State == ServerState.Starting && !answers ? ServerState.Starting : ServerState.Loading;
                r.Detail = "Re-attached after a manager restart; checking that it still answers.";
            });
            _metrics.Track(run.ServerId, process);
            LogReattached(_logger, profile.Name, process.Pid, row.Port);
            run.IsOurChild = PosixProcesses.TryReap(process.Pid, out var isChild) is null && isChild;
            Watch(run);
            if (row.State == ServerState.Stopping)
            {
                run.StopRequested = true;
                _ = Task.Run(() => TerminateAsync(run, CancellationToken.None), CancellationToken.None);
            }
            else if (!answers && row.State != ServerState.Starting)
            {
                await FailAsync(run, $"Its process (pid {process.Pid}) still runs, but nothing answers on {row.Host}:{row.Port} any more.", null).ConfigureAwait(false);
            }
        }
    }

    private static Profile Copy(Profile profile, ServerRun row)
    {
        var copy = profile.Duplicate(profile.Name, row.Port, profile.UpdatedAt);
        copy.Id = profile.Id;
        copy.Host = row.Host;
        copy.Engine = row.Engine;
        copy.ModelRef = row.ModelReference;
        copy.CreatedAt = profile.CreatedAt;
        return copy;
    }

    private async Task AutoStartAsync(CancellationToken cancellationToken)
    {
        try
        {
            List<int> ids;
            await using (var scope = _scopes.CreateAsyncScope())
            {
                var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
                ids = await db.Profiles.AsNoTracking().Where(p => p.AutoStart).OrderBy(p => p.Id).Select(p => p.Id).ToListAsync(cancellationToken).ConfigureAwait(false);
            }

            foreach (var id in ids)
            {
                if (Find(id) is { IsActive: true })
                {
                    continue;
                }

                var result = await StartServerAsync(id, cancellationToken).ConfigureAwait(false);
                LogAutoStart(_logger, id, result.Message);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The manager is shutting down before auto-start finished.
        }
        catch (Exception e)
        {
            LogAutoStartFailed(_logger, e);
        }
    }

    private async Task DetachAsync(SupervisedRun run)
    {
        if (run.State.IsActive() && run.Process is { } process)
        {
            run.Log?.Write($"The manager is shutting down; the server keeps running (pid {process.Pid}) and the next manager re-attaches to it.");
            LogDetached(_logger, run.Profile.Name, process.Pid);
        }

        await run.Watching.CancelAsync().ConfigureAwait(false);
        if (run.ProbeTask is { } probe)
        {
            await probe.ConfigureAwait(false);
        }

        run.IsWatched = false;
        run.Log?.Dispose();
        _metrics.Untrack(run.ServerId);
    }

    private async Task RotateAsync(AppDbContext db, int profileId, CancellationToken cancellationToken)
    {
        var keep = _options.EffectiveKeepRuns;
        var old = await db.ServerRuns.Where(r => r.ProfileId == profileId).OrderByDescending(r => r.Id).Skip(keep).ToListAsync(cancellationToken).ConfigureAwait(false);
        var active = new[] { ServerState.Starting, ServerState.Loading, ServerState.Ready, ServerState.Stopping };
        var removable = old.Where(r => !active.Contains(r.State)).ToList();
        foreach (var row in removable)
        {
            DeleteFile(row.LogPath);
            DeleteFile(row.OutputPath);
            DeleteFolder(row.WorkingDirectory);
        }

        db.ServerRuns.RemoveRange(removable);
        await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task PersistAsync(SupervisedRun run)
    {
        await run.PersistGate.WaitAsync().ConfigureAwait(false);
        var snapshot = run.Current;
        try
        {
            await using var scope = _scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
            var row = await db.ServerRuns.FirstOrDefaultAsync(r => r.Id == run.RunId).ConfigureAwait(false);
            if (row is null)
            {
                return; // its profile was deleted meanwhile
            }

            row.State = snapshot.State;
            row.Reason = snapshot.Detail;
            row.Pid = snapshot.Process?.Pid;
            row.ProcessStartTime = snapshot.Process?.StartTime;
            row.CommandLine = snapshot.CommandLine;
            row.ExitCode = snapshot.ExitCode;
            row.ModelReference = snapshot.Model.Reference;
            row.ModelIsMultimodal = snapshot.Model.IsMultimodal;
            row.FailureLog = snapshot.FailureLines.Count > 0 ? string.Join('\n', snapshot.FailureLines) : null;
            row.ReadyAtUtc = snapshot.ReadyAt?.UtcDateTime;
            row.EndedAtUtc = snapshot.EndedAt?.UtcDateTime;
            await db.SaveChangesAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is DbUpdateException or InvalidOperationException or ObjectDisposedException)
        {
            LogPersistFailed(_logger, run.RunId, e);
        }
        finally
        {
            run.PersistGate.Release();
        }
    }

    private void Change(SupervisedRun run, Action<SupervisedRun.Mutable> change)
    {
        var version = Interlocked.Increment(ref _version);
        Publish(run.Change(version, change));
    }

    private void Publish(ServerSnapshot snapshot)
    {
        var handlers = Changed;
        if (handlers is null)
        {
            return;
        }

        foreach (var handler in handlers.GetInvocationList().Cast<Action<ServerSnapshot>>())
        {
            try
            {
                handler(snapshot);
            }
            catch (Exception e)
            {
                LogHandlerFailed(_logger, e);
            }
        }
    }

    private void RaiseLogAdvanced(int serverId, long sequence)
    {
        var handlers = LogAdvanced;
        if (handlers is null)
        {
            return;
        }

        foreach (var handler in handlers.GetInvocationList().Cast<Action<int, long>>())
        {
            try
            {
                handler(serverId, sequence);
            }
            catch (Exception e)
            {
                LogHandlerFailed(_logger, e);
            }
        }
    }

    /// <summary>Runs <paramref name="work"/> holding the server's gate: one start, stop, restart or retire at a time per server.</summary>
    private async Task<T> UnderGateAsync<T>(int serverId, Func<Task<T>> work, CancellationToken cancellationToken)
    {
        var gate = GateOf(serverId);
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

    private SemaphoreSlim GateOf(int profileId)
    {
        lock (_lock)
        {
            if (!_gates.TryGetValue(profileId, out var gate))
            {
                _gates[profileId] = gate = new SemaphoreSlim(1, 1);
            }

            return gate;
        }
    }

    private void DeleteFile(string path)
    {
        try
        {
            if (path.Length > 0 && File.Exists(path))
            {
                File.Delete(path);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            LogCleanupFailed(_logger, path, e);
        }
    }

    private void DeleteFolder(string path)
    {
        try
        {
            if (path.Length > 0 && Directory.Exists(path))
            {
                Directory.Delete(path, recursive: true);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            LogCleanupFailed(_logger, path, e);
        }
    }

    /// <summary>"12 s", "3 min 5 s", "1 h 2 min".</summary>
    public static string Describe(TimeSpan span)
    {
        if (span < TimeSpan.Zero)
        {
            span = TimeSpan.Zero;
        }

        return span.TotalSeconds < 60 ? $"{span.TotalSeconds.ToString(span.TotalSeconds < 10 ? "0.0" : "0", CultureInfo.InvariantCulture)} s"
            : span.TotalMinutes < 60 ? $"{(int)span.TotalMinutes} min {span.Seconds} s"
            : $"{(int)span.TotalHours} h {span.Minutes} min";
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Started the server of {Profile} (pid {Pid}, port {Port})")]
    private static partial void LogStarted(ILogger logger, string profile, int pid, int port);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The server of {Profile} was not started: {Reason}")]
    private static partial void LogNotStarted(ILogger logger, string profile, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "The server of {Profile} is ready, {Took} after {Event}")]
    private static partial void LogReady(ILogger logger, string profile, string @event, string took);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The server of {Profile} failed: {Reason}")]
    private static partial void LogFailed(ILogger logger, string profile, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "The server of {Profile} is {State}")]
    private static partial void LogEnded(ILogger logger, string profile, string state);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The server of {Profile} (pid {Pid}) did not end after SIGTERM; sent SIGKILL")]
    private static partial void LogKilled(ILogger logger, string profile, int pid);

    [LoggerMessage(Level = LogLevel.Error, Message = "The server of {Profile} (pid {Pid}) did not end even after SIGKILL")]
    private static partial void LogStuck(ILogger logger, string profile, int pid);

    [LoggerMessage(Level = LogLevel.Information, Message = "Re-attached to the server of {Profile} (pid {Pid}, port {Port})")]
    private static partial void LogReattached(ILogger logger, string profile, int pid, int port);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The server of {Profile} ended while the manager was not running ({Lines} unread output lines)")]
    private static partial void LogGoneWhileAway(ILogger logger, string profile, int lines);

    [LoggerMessage(Level = LogLevel.Information, Message = "Left the server of {Profile} running (pid {Pid}) for the next manager")]
    private static partial void LogDetached(ILogger logger, string profile, int pid);

    [LoggerMessage(Level = LogLevel.Information, Message = "Auto-start of profile {ProfileId}: {Result}")]
    private static partial void LogAutoStart(ILogger logger, int profileId, string result);

    [LoggerMessage(Level = LogLevel.Error, Message = "Auto-start failed")]
    private static partial void LogAutoStartFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "Watching the server of {Profile} failed")]
    private static partial void LogWatchFailed(ILogger logger, string profile, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not save the state of server run {RunId}")]
    private static partial void LogPersistFailed(ILogger logger, long runId, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A server change handler threw")]
    private static partial void LogHandlerFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not delete {Path}")]
    private static partial void LogCleanupFailed(ILogger logger, string path, Exception exception);
}
