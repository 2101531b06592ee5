namespace MlxManager.Core.Servers;

/// <summary>Supervisor settings, bound from <c>MlxManager:Servers</c>.</summary>
public sealed class ServerOptions
{
    public const string SectionName = "MlxManager:Servers";

    /// <summary>How long a server may take from start to its first answered completion before the start fails. Default 10 minutes.</summary>
    public TimeSpan LoadTimeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>How long a stopping server gets after SIGTERM before its process tree is killed (SIGKILL). Default 10 s.</summary>
    public TimeSpan StopGracePeriod { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Log files (and working folders) of this many most recent runs are kept per profile; older ones are deleted. Default 10.</summary>
    public int KeepRunsPerProfile { get; set; } = 10;

    /// <summary>
    /// False (default): servers keep running when the manager stops, and the next start re-attaches to them.
    /// True: the manager stops every server when it shuts down.
    /// </summary>
    public bool StopServersOnExit { get; set; }

    /// <summary>Whether profiles marked auto-start are started when the manager starts. Default true.</summary>
    public bool AutoStart { get; set; } = true;

    /// <summary>How often servers are checked while any of them starts, loads or stops. Default 100 ms.</summary>
    public TimeSpan WatchIntervalWhileLoading { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>How often ready servers' output and processes are checked (all in one pass). Default 500 ms.</summary>
    public TimeSpan WatchIntervalWhenReady { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Output quiet for this long completes a fatal log signature that may still grow (a traceback). Default 250 ms.</summary>
    public TimeSpan QuietBeforeFlush { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Lines of failure context kept with a failed run (the tile and the run's record show them). Default 40.</summary>
    public int FailureLines { get; set; } = 40;

    /// <summary>
    /// Size at which a run's log is rotated: the log so far becomes <c>&lt;run&gt;.log.1</c> (replacing an older one) and
    /// the engine's raw output file is emptied in place, so a run keeps at most about three times this on disk.
    /// Checked each time the output is read. Default 20 MiB.
    /// </summary>
    public long MaxRunLogBytes { get; set; } = 20L * 1024 * 1024;

    internal long EffectiveMaxRunLogBytes => Math.Max(4096, MaxRunLogBytes);

    internal TimeSpan EffectiveLoadTimeout => LoadTimeout <= TimeSpan.Zero ? TimeSpan.FromMinutes(10) : LoadTimeout;

    /// <summary>The profile's own load timeout when it has one, else <see cref="LoadTimeout"/>.</summary>
    internal TimeSpan LoadTimeoutOf(Profiles.Profile profile) =>
        profile.LoadTimeoutSeconds is > 0 and { } seconds ? TimeSpan.FromSeconds(seconds) : EffectiveLoadTimeout;

    internal TimeSpan EffectiveGracePeriod => StopGracePeriod < TimeSpan.Zero ? TimeSpan.Zero : StopGracePeriod;

    internal int EffectiveKeepRuns => Math.Max(1, KeepRunsPerProfile);

    internal TimeSpan LoadingInterval => Clamp(WatchIntervalWhileLoading, 20, 1000);

    internal TimeSpan ReadyInterval => Clamp(WatchIntervalWhenReady, 20, 1000);

    private static TimeSpan Clamp(TimeSpan value, int minMs, int maxMs) =>
        TimeSpan.FromMilliseconds(Math.Clamp(value.TotalMilliseconds, minMs, maxMs));
}
