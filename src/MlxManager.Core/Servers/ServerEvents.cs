using Microsoft.Extensions.Logging;

namespace MlxManager.Core.Servers;

/// <summary>
/// What the supervisor tells about its servers: <see cref="Changed"/> with a server's new snapshot, <see cref="LogAdvanced"/>
/// when new lines of a server's log were read, and a <see cref="Version"/> that grows with every change of any server.
/// The supervisor exposes these as its own events (<see cref="IServerDirectory"/>); a part that wants to observe state
/// changes (a gateway waiting for a server, the /servers stream) subscribes there.
/// </summary>
/// <remarks>A handler that throws is logged; it never stops the other handlers nor the part that raised the event.</remarks>
public sealed partial class ServerEvents(ILogger<ServerEvents> logger)
{
    private long _version;

    /// <summary>Raised after any server changed, on the thread that changed it. Keep handlers short.</summary>
    public event Action<ServerSnapshot>? Changed;

    /// <summary>Raised when new log lines of a server were read: (server id, newest sequence number).</summary>
    public event Action<int, long>? LogAdvanced;

    /// <summary>Grows whenever any server changes.</summary>
    public long Version => Interlocked.Read(ref _version);

    /// <summary>Counts a change and returns the new version (the snapshot of that change carries it).</summary>
    internal long NextVersion() => Interlocked.Increment(ref _version);

    internal void RaiseChanged(ServerSnapshot snapshot)
    {
        foreach (var handler in Changed?.GetInvocationList().Cast<Action<ServerSnapshot>>() ?? [])
        {
            Invoke(() => handler(snapshot));
        }
    }

    internal void RaiseLogAdvanced(int serverId, long sequence)
    {
        foreach (var handler in LogAdvanced?.GetInvocationList().Cast<Action<int, long>>() ?? [])
        {
            Invoke(() => handler(serverId, sequence));
        }
    }

    private void Invoke(Action call)
    {
        try
        {
            call();
        }
        catch (Exception e)
        {
            LogHandlerFailed(logger, e);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "A server change handler threw")]
    private static partial void LogHandlerFailed(ILogger logger, Exception exception);
}
