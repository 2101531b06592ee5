using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using MlxManager.Core.Accounts;
using MlxManager.Core.Chat.Servers;
using MlxManager.Core.Data;
using MlxManager.Core.Gateway;
using MlxManager.Core.Profiles;
using MlxManager.Core.Servers;

namespace MlxManager.Web.Chat;

/// <summary>
/// The chat's view of the servers the supervisor runs: the server id is the profile id, the state and the failure
/// come from the supervisor's snapshot, and what the model can do is detected from its files (cached per snapshot
/// folder by <see cref="ILocalModelCharacteristics"/>). Starting a profile from the chat: one that starts on demand is
/// started by any active user the gateway's way (<see cref="GatewayStarter"/>, same admission rules); any other is the
/// Servers page's command, for administrators only.
/// </summary>
public sealed class SupervisorChatServers(
    IServerDirectory directory,
    ServerSupervisor supervisor,
    ProfileModelResolver models,
    GatewayStarter starter,
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
        var (user, isAdmin, profile) = await LookUpAsync(userId, profileId, cancellationToken).ConfigureAwait(false);
        if (user is not { Status: UserStatus.Active })
        {
            return ChatServerStart.Refused("Your account is not active.");
        }

        if (profile is null)
        {
            return ChatServerStart.Refused("That profile no longer exists.");
        }

        if (profile.StartOnDemand)
        {
            return await StartOnDemandAsync(profile, user.UserName ?? user.Email ?? userId, cancellationToken).ConfigureAwait(false);
        }

        if (!isAdmin)
        {
            return ChatServerStart.Refused($"\"{profile.Name}\" does not start on demand, so only administrators can start it. Ask one to start it, or pick a server that is already running.");
        }

        // The supervisor decides under its per-profile lock; "already running" comes back with the running server.
        var result = await supervisor.StartServerAsync(profileId, cancellationToken).ConfigureAwait(false);
        return IsUnderWay(result.Server)
            ? ChatServerStart.Started(result.Server!.ServerId)
            : ChatServerStart.Refused(result.Message);
    }

    /// <summary>
    /// Starts <paramref name="profile"/> the way the gateway does (<see cref="GatewayStarter"/>: one shared start, the same
    /// admission rules) and returns as soon as its server is under way, so the conversation opens while the model loads
    /// and its status badge follows the rest. A start refused or failed before that comes back with its reason. Only
    /// this wait ends with the request; the start goes on.
    /// </summary>
    private async Task<ChatServerStart> StartOnDemandAsync(Profile profile, string requestedBy, CancellationToken cancellationToken)
    {
        var underWay = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnChanged(ServerSnapshot server)
        {
            if (server.ServerId == profile.Id && IsUnderWay(server))
            {
                underWay.TrySetResult();
            }
        }

        using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        supervisor.Changed += OnChanged;
        try
        {
            if (IsUnderWay(supervisor.Find(profile.Id)))
            {
                underWay.TrySetResult(); // already starting or loading: no further change may come before it is ready
            }

            var start = starter.EnsureReadyAsync(profile, requestedBy, _ => Task.CompletedTask, wait.Token);
            await Task.WhenAny(start, underWay.Task).ConfigureAwait(false);
            await wait.CancelAsync().ConfigureAwait(false);
            try
            {
                var ready = await start.ConfigureAwait(false);
                return ChatServerStart.Started(ready.ServerId);
            }
            catch (OperationCanceledException) when (underWay.Task.IsCompleted)
            {
                return ChatServerStart.Started(profile.Id); // under way: the badge shows the load
            }
            catch (GatewayException refused)
            {
                return ChatServerStart.Refused(refused.Message);
            }
        }
        finally
        {
            supervisor.Changed -= OnChanged;
        }
    }

    /// <summary>Starting, loading or ready: a server to open a conversation with (one on its way down is not).</summary>
    private static bool IsUnderWay(ServerSnapshot? server) => server is { IsActive: true, State: not ServerState.Stopping };

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

    private async Task<(AppUser? User, bool IsAdmin, Profile? Profile)> LookUpAsync(string userId, int profileId, CancellationToken cancellationToken)
    {
        using var scope = scopes.CreateScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>();
        var user = await users.FindByIdAsync(userId).ConfigureAwait(false);
        var isAdmin = user is not null && await users.IsInRoleAsync(user, Roles.Admin).ConfigureAwait(false);
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var profile = await db.Profiles.AsNoTracking().FirstOrDefaultAsync(p => p.Id == profileId, cancellationToken).ConfigureAwait(false);
        return (user, isAdmin, profile);
    }
}
