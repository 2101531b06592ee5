namespace MlxManager.Core.Servers;

/// <summary>
/// Where a server is in its life: <see cref="Starting"/> → <see cref="Loading"/> → <see cref="Ready"/> →
/// <see cref="Stopping"/> → <see cref="Stopped"/>, or <see cref="Failed"/> from any of them.
/// </summary>
public enum ServerState
{
    /// <summary>The process has been started; nothing answers on its port yet.</summary>
    Starting,

    /// <summary>The engine answers on its port, but has not yet answered a one-token completion: chat must wait.</summary>
    Loading,

    /// <summary>A one-token completion came back: the model is loaded and generates.</summary>
    Ready,

    /// <summary>SIGTERM sent to the process tree; waiting for it to end (SIGKILL after the grace period).</summary>
    Stopping,

    /// <summary>Stopped on request; nothing of it is left running.</summary>
    Stopped,

    /// <summary>It could not start, exited, printed its fatal signature or did not load in time; see the reason and the log's tail.</summary>
    Failed,
}

/// <summary>Helpers for <see cref="ServerState"/>.</summary>
public static class ServerStates
{
    private static readonly ServerState[] ActiveStates = [ServerState.Starting, ServerState.Loading, ServerState.Ready, ServerState.Stopping];

    /// <summary>The states in which a process may be alive: starting, loading, ready, stopping. The one list (database queries use it too).</summary>
    public static IReadOnlyList<ServerState> Active => ActiveStates;

    /// <summary>A process may be alive: the state is one of <see cref="Active"/>.</summary>
    public static bool IsActive(this ServerState state) => Array.IndexOf(ActiveStates, state) >= 0;

    /// <summary>Lower-case word for the UI and CSS classes: "starting", "ready", …</summary>
    public static string Word(this ServerState state) => state.ToString().ToLowerInvariant();
}
