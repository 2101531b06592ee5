using MlxManager.Core.Engines;
using MlxManager.Core.Metrics;
using MlxManager.Core.Profiles;

namespace MlxManager.Core.Servers;

/// <summary>
/// The supervisor's mutable record of one run: state, process, log, and the tasks watching it. All state
/// changes go through <see cref="Change"/> under one lock; readers take <see cref="Snapshot"/>.
/// </summary>
internal sealed class SupervisedRun(
    long runId,
    Profile profile,
    IEngineDefinition engine,
    ResolvedModel model,
    DateTimeOffset startedAt,
    string logPath,
    string outputPath)
{
    private readonly Lock _lock = new();
    private readonly TaskCompletionSource _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _settled = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private ServerState _state = ServerState.Starting;
    private string _detail = "Preparing to start.";
    private IReadOnlyList<string> _failureLines = [];
    private ProcessIdentity? _process;
    private DateTimeOffset? _readyAt;
    private DateTimeOffset? _endedAt;
    private int? _exitCode;
    private string _commandLine = "";
    private ServerSnapshot? _snapshot;

    public long RunId { get; } = runId;

    public int ServerId => Profile.Id;

    public Profile Profile { get; } = profile;

    public IEngineDefinition Engine { get; } = engine;

    public ResolvedModel Model { get; set; } = model;

    public DateTimeOffset StartedAt { get; } = startedAt;

    /// <summary>When this manager began watching it: the start, or the re-attach (the load timeout counts from here).</summary>
    public DateTimeOffset WatchedSince { get; set; } = startedAt;

    public string LogPath { get; } = logPath;

    public string OutputPath { get; } = outputPath;

    public RunLog? Log { get; set; }

    public IFatalLogWatcher Watcher { get; } = engine.CreateFatalLogWatcher();

    /// <summary>The process is this manager's child (started by it, not re-attached): its exit status can be read.</summary>
    public bool IsOurChild { get; set; }

    public bool Reattached { get; set; }

    /// <summary>Cancelled when the run is detached (manager shutting down): watching and probing end, the process stays.</summary>
    public CancellationTokenSource Watching { get; } = new();

    /// <summary>Cancels the readiness probe only (stop requested, failed).</summary>
    public CancellationTokenSource Probing { get; } = new();

    /// <summary>The readiness probe, while it runs.</summary>
    public Task? ProbeTask { get; set; }

    /// <summary>The watch loop checks this run (from its launch or re-attach until it ends or is detached).</summary>
    public bool IsWatched { get; set; }

    /// <summary>When output was last read (for the quiet period that completes a fatal signature).</summary>
    public DateTimeOffset LastOutput { get; set; }

    /// <summary>The watcher was flushed since the last output.</summary>
    public bool QuietFlushed { get; set; } = true;

    /// <summary>Serialises writes of this run's row, so the newest state is the one saved last.</summary>
    public SemaphoreSlim PersistGate { get; } = new(1, 1);

    /// <summary>Why the run is being stopped ("Stopped on request.", "Unloaded after 30 min idle."…): set once a stop was requested; it becomes the stopped run's detail.</summary>
    public string? StopReason { get; set; }

    /// <summary>A stop was requested: the exit that follows is a stop, not a failure.</summary>
    public bool StopRequested => StopReason is not null;

    /// <summary>Completes when the process has ended and the run is final (stopped or failed and reaped).</summary>
    public Task Ended => _ended.Task;

    /// <summary>Completes when the run is ready, failed or stopped.</summary>
    public Task Settled => _settled.Task;

    public ServerState State
    {
        get
        {
            lock (_lock)
            {
                return _state;
            }
        }
    }

    public ProcessIdentity? Process
    {
        get
        {
            lock (_lock)
            {
                return _process;
            }
        }
    }

    /// <summary>Applies a change and returns the new snapshot, stamped with <paramref name="version"/> (the supervisor's new version).</summary>
    public ServerSnapshot Change(long version, Action<Mutable> change)
    {
        lock (_lock)
        {
            change(new Mutable(this));
            _snapshot = Build(version);
            if (_state is ServerState.Ready or ServerState.Failed or ServerState.Stopped)
            {
                _settled.TrySetResult();
            }

            return _snapshot;
        }
    }

    /// <summary>Marks the run as final: its process is gone and its files are closed.</summary>
    public void MarkEnded() => _ended.TrySetResult();

    /// <summary>The snapshot of the last change.</summary>
    public ServerSnapshot Current
    {
        get
        {
            lock (_lock)
            {
                return _snapshot ??= Build(0);
            }
        }
    }

    private ServerSnapshot Build(long version) => new(
        ServerId, RunId, Profile, Engine, Model, _state, _detail, _failureLines, _process, StartedAt, _readyAt, _endedAt, _exitCode, Reattached,
        _commandLine, version);

    /// <summary>Write access for <see cref="Change"/>.</summary>
    public readonly struct Mutable(SupervisedRun run)
    {
        public ServerState State
        {
            get => run._state;
            set => run._state = value;
        }

        public string Detail
        {
            get => run._detail;
            set => run._detail = value;
        }

        public IReadOnlyList<string> FailureLines
        {
            get => run._failureLines;
            set => run._failureLines = value;
        }

        public ProcessIdentity? Process
        {
            get => run._process;
            set => run._process = value;
        }

        public DateTimeOffset? ReadyAt
        {
            get => run._readyAt;
            set => run._readyAt = value;
        }

        public DateTimeOffset? EndedAt
        {
            get => run._endedAt;
            set => run._endedAt = value;
        }

        public int? ExitCode
        {
            get => run._exitCode;
            set => run._exitCode = value;
        }

        public string CommandLine
        {
            get => run._commandLine;
            set => run._commandLine = value;
        }
    }
}
