using Microsoft.AspNetCore.Identity;
using MlxManager.Core.Accounts;
using MlxManager.Core.Chat.Servers;
using MlxManager.Core.Profiles;
using MlxManager.Core.Servers;

namespace MlxManager.Web.Chat;

/// <summary>
/// The chat's view of the servers the supervisor runs: the server id is the profile id, the state and the failure
/// come from the supervisor's snapshot, and what the model can do is detected from its files (cached per snapshot
/// folder by <see cref="ILocalModelCharacteristics"/>). Starting a profile from the chat is the same command as on
/// the Servers page, with the same rule: administrators only.
/// </summary>
public sealed class SupervisorChatServers(
    IServerDirectory directory,
    ServerSupervisor supervisor,
    ProfileModelResolver models,
    IServiceScopeFactory scopes) : IChatServerDirectory
{
    public async ValueTask<IReadOnlyList<ChatServer>> ListAsync(CancellationToken cancellationToken)
    {
        var snapshots = directory.Servers.OrderByDescending(s => s.StartedAt).ToList();
        var servers = new List<ChatServer>(snapshots.Count);
        foreach (var snapshot in snapshots)
        {
            servers.Add(await ToChatServerAsync(snapshot, cancellationToken).ConfigureAwait(false));
        }

        return servers;
    }

    public async ValueTask<ChatServer?> FindAsync(int serverId, CancellationToken cancellationToken) =>
        directory.Find(serverId) is { } snapshot ? await ToChatServerAsync(snapshot, cancellationToken).ConfigureAwait(false) : null;

    public async Task<ChatServer?> WaitUntilReadyOrFailedAsync(int serverId, CancellationToken cancellationToken)
    {
        var settled = await directory.WaitUntilSettledAsync(serverId, cancellationToken).ConfigureAwait(false);
        return settled is null ? null : await ToChatServerAsync(settled, cancellationToken).ConfigureAwait(false);
    }

    public async Task<ChatServerStart> StartProfileAsync(int profileId, string userId, CancellationToken cancellationToken)
    {
        if (!await IsActiveAdminAsync(userId).ConfigureAwait(false))
        {
            return ChatServerStart.Refused("Only administrators can start servers. Ask one to start this profile, or pick a server that is already running.");
        }

        // The supervisor decides under its per-profile lock; "already running" comes back with the running server.
        var result = await supervisor.StartServerAsync(profileId, cancellationToken).ConfigureAwait(false);
        return result.Server is { IsActive: true, State: not ServerState.Stopping } server
            ? ChatServerStart.Started(server.ServerId)
            : ChatServerStart.Refused(result.Message);
    }

    /// <summary>Maps the supervisor's states: a server on its way down is no longer one to chat with.</summary>
    public static ChatServerState StateOf(ServerState state) => state switch
    {
        ServerState.Starting => ChatServerState.Starting,
        ServerState.Loading => ChatServerState.Loading,
        ServerState.Ready => ChatServerState.Ready,
        ServerState.Failed => ChatServerState.Failed,
        _ => ChatServerState.Stopped,
    };

    private async Task<ChatServer> ToChatServerAsync(ServerSnapshot snapshot, CancellationToken cancellationToken)
    {
        var model = await models.ResolveAsync(snapshot.Profile.ModelRef, cancellationToken).ConfigureAwait(false);
        var state = StateOf(snapshot.State);
        return new ChatServer(
            snapshot.ServerId,
            snapshot.Profile,
            snapshot.Model.Reference,
            ChatModelCapabilities.FromCharacteristics(model.Characteristics),
            state,
            state == ChatServerState.Failed ? snapshot.Detail : null);
    }

    private async Task<bool> IsActiveAdminAsync(string userId)
    {
        using var scope = scopes.CreateScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>();
        var user = await users.FindByIdAsync(userId).ConfigureAwait(false);
        return user is { Status: UserStatus.Active } && await users.IsInRoleAsync(user, Roles.Admin).ConfigureAwait(false);
    }
}
