using MlxManager.Core.Chat.Servers;

namespace MlxManager.Web.Chat;

/// <summary>
/// The directory used until the server supervisor registers its own <see cref="IChatServerDirectory"/>: it knows
/// no servers, so the chat says that none is running and cannot start one.
/// </summary>
public sealed class NoChatServers : IChatServerDirectory
{
    public ValueTask<IReadOnlyList<ChatServer>> ListAsync(CancellationToken cancellationToken) => ValueTask.FromResult<IReadOnlyList<ChatServer>>([]);

    public ValueTask<ChatServer?> FindAsync(int serverId, CancellationToken cancellationToken) => ValueTask.FromResult<ChatServer?>(null);

    public Task<ChatServer?> WaitUntilReadyOrFailedAsync(int serverId, CancellationToken cancellationToken) => Task.FromResult<ChatServer?>(null);

    public Task<ChatServerStart> StartProfileAsync(int profileId, string userId, CancellationToken cancellationToken) =>
        Task.FromResult(ChatServerStart.Refused("Servers cannot be started from the chat in this build: start them on the Servers page."));
}
