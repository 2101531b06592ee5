using System.Net;
using System.Text.Json.Nodes;
using MlxManager.Core.Engines;
using MlxManager.Core.Metrics;
using MlxManager.Core.Profiles;

namespace MlxManager.Core.Servers;

/// <summary>
/// One server as the supervisor sees it at one moment (immutable). The server id is the profile id: a profile
/// has at most one server, and the id stays the same across restarts of the server and of the manager.
/// </summary>
/// <param name="ServerId">The profile's id.</param>
/// <param name="RunId">This start's <see cref="ServerRun"/> row.</param>
/// <param name="Profile">The profile as it was when the server started (a copy; later edits apply at the next start).</param>
/// <param name="Engine">The engine definition (request defaults, readiness, quirks).</param>
/// <param name="Model">The model the engine was given (reference and whether it takes images).</param>
/// <param name="State">Starting, loading, ready, stopping, stopped or failed.</param>
/// <param name="Detail">What the state means right now, or why it failed (one or two sentences).</param>
/// <param name="FailureLines">The engine's last output lines when it failed (empty otherwise).</param>
/// <param name="Process">The engine's process (the root of its tree) once started.</param>
/// <param name="StartedAt">When the run started.</param>
/// <param name="ReadyAt">When the first completion came back.</param>
/// <param name="EndedAt">When it stopped or failed.</param>
/// <param name="ExitCode">The exit status when it exited and the manager could see it.</param>
/// <param name="Reattached">The manager re-attached to it after a restart (its earlier output is in the log file).</param>
/// <param name="CommandLine">The command as run, quoted for display.</param>
/// <param name="Version">Grows with every change of any server (for cheap change detection).</param>
public sealed record ServerSnapshot(
    int ServerId,
    long RunId,
    Profile Profile,
    IEngineDefinition Engine,
    ResolvedModel Model,
    ServerState State,
    string Detail,
    IReadOnlyList<string> FailureLines,
    ProcessIdentity? Process,
    DateTimeOffset StartedAt,
    DateTimeOffset? ReadyAt,
    DateTimeOffset? EndedAt,
    int? ExitCode,
    bool Reattached,
    string CommandLine,
    long Version)
{
    /// <summary>The engine's base URL, always built from the profile's own host and port (a wildcard host means this machine).</summary>
    public Uri BaseUrl => BaseUrlFor(Profile.Host, Profile.Port);

    /// <summary><c>{BaseUrl}v1/chat/completions</c>: the only URL a chat should POST to for this server.</summary>
    public Uri ChatCompletionsUrl => new(BaseUrl, "v1/chat/completions");

    /// <summary>Fields to merge into every chat request (the profile's values the engine takes per request).</summary>
    public JsonObject RequestDefaults => Engine.BuildRequestDefaults(Profile);

    public bool IsActive => State.IsActive();

    public bool IsReady => State == ServerState.Ready;

    /// <summary>Time since the run started, until it ended.</summary>
    public TimeSpan Uptime(DateTimeOffset now) => (EndedAt ?? now) - StartedAt;

    /// <summary><c>http://host:port/</c> for a profile's host and port; wildcard hosts become loopback, IPv6 gets brackets.</summary>
    public static Uri BaseUrlFor(string host, int port)
    {
        var connectable = Processes.PortProbe.ConnectableHost(host);
        var hostPart = IPAddress.TryParse(connectable, out var address) && address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6
            ? $"[{connectable}]"
            : connectable;
        return new Uri($"http://{hostPart}:{port}/");
    }
}

/// <summary>Whether a chat may use a server now, and if not, the sentence to show.</summary>
/// <param name="Server">The server, when there is one.</param>
/// <param name="Refusal">Null when the server is ready; otherwise why not ("… is still loading its model …").</param>
public sealed record ServerAvailability(ServerSnapshot? Server, string? Refusal)
{
    public bool IsAvailable => Refusal is null && Server is { IsReady: true };
}

/// <summary>
/// The read side of the supervisor, for pages and the chat: which servers exist, their state, and where they
/// listen. Implemented by <see cref="ServerSupervisor"/>.
/// </summary>
public interface IServerDirectory
{
    /// <summary>Every server the manager shows: active ones and the last failed or stopped ones not dismissed, by start time.</summary>
    IReadOnlyList<ServerSnapshot> Servers { get; }

    /// <summary>Grows whenever any server changes.</summary>
    long Version { get; }

    /// <summary>The server of profile <paramref name="serverId"/>, or null.</summary>
    ServerSnapshot? Find(int serverId);

    /// <summary>
    /// For a chat: the server when it is ready; otherwise a refusal such as "… is still loading its model; the chat
    /// can start once it is ready." or "… is not running.".
    /// </summary>
    ServerAvailability CheckAvailable(int serverId);

    /// <summary>
    /// Waits until the server is ready, or has failed or stopped, and returns it then (null when there is no such
    /// server). Returns at once when it is already settled. For "the chat waits while loading".
    /// </summary>
    Task<ServerSnapshot?> WaitUntilSettledAsync(int serverId, CancellationToken cancellationToken);

    /// <summary>Raised after any server changed (state, detail, process), on the thread that changed it. Keep handlers short.</summary>
    event Action<ServerSnapshot>? Changed;

    /// <summary>Raised when new log lines of a server were read: (server id, newest sequence number).</summary>
    event Action<int, long>? LogAdvanced;

    /// <summary>Log lines of a server's current run after <paramref name="afterSequence"/> (at most <paramref name="max"/>), or null.</summary>
    LogSlice? ReadLog(int serverId, long afterSequence, int max);

    /// <summary>Path of the timestamped log file of the server's current (or last) run, or null.</summary>
    string? LogFileOf(int serverId);
}
