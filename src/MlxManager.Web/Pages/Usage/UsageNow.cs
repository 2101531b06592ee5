using Microsoft.EntityFrameworkCore;
using MlxManager.Core.Data;
using MlxManager.Core.Gateway;
using MlxManager.Core.Servers;
using MlxManager.Core.Usage;

namespace MlxManager.Web.Pages.Usage;

/// <summary>One request in a lane now, named for the page.</summary>
public sealed record InUseRow(string Server, string User, string Source, bool Running, DateTimeOffset Since);

/// <summary>
/// "In use right now": every gateway request and web-chat turn the profiles' lanes hold (<see cref="GatewayLanes"/>),
/// with the server and the account. Members see only their own; admins see everyone's, or one user's.
/// </summary>
public sealed class UsageNow(GatewayLanes lanes, IServerDirectory servers, AppDbContext db)
{
    public async Task<IReadOnlyList<InUseRow>> ReadAsync(string viewerId, bool viewerIsAdmin, string? userFilter, CancellationToken cancellationToken)
    {
        var only = viewerIsAdmin ? userFilter : viewerId;
        var requests = lanes.Requests().Where(r => only is null || r.User?.UserId == only).ToList();
        if (requests.Count == 0)
        {
            return [];
        }

        var userIds = requests.Select(r => r.User?.UserId).OfType<string>().Distinct().ToList();
        var emails = await db.Users.AsNoTracking().Where(u => userIds.Contains(u.Id))
            .ToDictionaryAsync(u => u.Id, u => u.Email ?? u.Id, cancellationToken);
        var profileIds = requests.Select(r => r.ProfileId).Distinct().ToList();
        var names = await db.Profiles.AsNoTracking().Where(p => profileIds.Contains(p.Id))
            .ToDictionaryAsync(p => p.Id, p => p.Name, cancellationToken);
        return [.. requests.Select(r => new InUseRow(
            names.GetValueOrDefault(r.ProfileId) ?? servers.Find(r.ProfileId)?.Profile.Name ?? $"Profile {r.ProfileId}",
            r.User is { } user ? emails.GetValueOrDefault(user.UserId, "(deleted user)") : "(unknown)",
            r.User?.Source == UsageSource.Chat ? "web chat" : "gateway",
            r.Running,
            r.Since))];
    }
}

/// <summary>A "by model / user / key" table: its id suffix, its first column's heading and its rows.</summary>
public sealed record UsageGroupsTable(string Id, string What, IReadOnlyList<MlxManager.Core.Usage.Reports.UsageGroup> Groups);
