using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using MlxManager.Core.Chat.History;
using MlxManager.Core.Data;

namespace MlxManager.Core.Accounts;

/// <summary>One row of the admin users list.</summary>
public sealed record UserSummary(string Id, string Email, UserStatus Status, bool IsAdmin, DateTime CreatedAtUtc);

/// <summary>Outcome of an administrative change: either done, or a message for the admin.</summary>
public sealed record AccountChange(bool Succeeded, string? Error)
{
    public static AccountChange Done { get; } = new(true, null);

    public static AccountChange Refused(string error) => new(false, error);
}

/// <summary>
/// What administrators do to accounts: approve, disable, re-enable, delete, reset a password,
/// promote and demote. The last active administrator can never be removed, demoted or disabled.
/// Every change ends the account's access as the rules require: disabling or deleting updates the
/// security stamp (browser sessions end at their next check, within a minute) and invalidates
/// <see cref="AccountSnapshots"/> (the next request with the session or a token is refused at once).
/// </summary>
public sealed partial class UserAdministration(
    AppDbContext db,
    UserManager<AppUser> users,
    AccountWriteGate gate,
    AccountSnapshots snapshots,
    AttachmentStore attachments,
    ILogger<UserAdministration> logger)
{
    private const string LastAdminMessage = "This is the last active administrator. Promote another user to admin first.";

    /// <summary>All accounts: pending first, then by registration date.</summary>
    public async Task<IReadOnlyList<UserSummary>> ListAsync(CancellationToken cancellationToken = default)
    {
        var rows = await db.Users
            .AsNoTracking()
            .Select(user => new UserSummary(
                user.Id,
                user.Email ?? "",
                user.Status,
                db.UserRoles.Any(role => role.UserId == user.Id && role.RoleId == Roles.AdminRoleId),
                user.CreatedAtUtc))
            .ToListAsync(cancellationToken);
        return rows
            .OrderBy(row => row.Status == UserStatus.Pending ? 0 : 1)
            .ThenBy(row => row.CreatedAtUtc)
            .ToList();
    }

    /// <summary>The row for one account, or null when it does not exist.</summary>
    public async Task<UserSummary?> FindAsync(string userId, CancellationToken cancellationToken = default) =>
        await db.Users
            .AsNoTracking()
            .Where(user => user.Id == userId)
            .Select(user => new UserSummary(
                user.Id,
                user.Email ?? "",
                user.Status,
                db.UserRoles.Any(role => role.UserId == user.Id && role.RoleId == Roles.AdminRoleId),
                user.CreatedAtUtc))
            .FirstOrDefaultAsync(cancellationToken);

    /// <summary>Number of accounts waiting for approval (the nav badge).</summary>
    public Task<int> CountPendingAsync(CancellationToken cancellationToken = default) =>
        db.Users.CountAsync(user => user.Status == UserStatus.Pending, cancellationToken);

    /// <summary>Lets a pending account in.</summary>
    public Task<AccountChange> ApproveAsync(string actorId, string userId, CancellationToken cancellationToken = default) =>
        ChangeAsync(actorId, userId, "approve", async (user, _) =>
        {
            if (user.Status != UserStatus.Pending)
            {
                return AccountChange.Refused("Only pending accounts can be approved.");
            }
            user.Status = UserStatus.Active;
            return await SaveAsync(users.UpdateAsync(user));
        }, cancellationToken);

    /// <summary>Turns an account off: its sessions end and its tokens are refused.</summary>
    public Task<AccountChange> DisableAsync(string actorId, string userId, CancellationToken cancellationToken = default) =>
        ChangeAsync(actorId, userId, "disable", async (user, isLastActiveAdmin) =>
        {
            if (isLastActiveAdmin)
            {
                return AccountChange.Refused(LastAdminMessage);
            }
            if (user.Status == UserStatus.Disabled)
            {
                return AccountChange.Refused("The account is already disabled.");
            }
            user.Status = UserStatus.Disabled;
            var updated = await SaveAsync(users.UpdateAsync(user));
            return updated.Succeeded ? await SaveAsync(users.UpdateSecurityStampAsync(user)) : updated;
        }, cancellationToken);

    /// <summary>Turns a disabled account back on.</summary>
    public Task<AccountChange> EnableAsync(string actorId, string userId, CancellationToken cancellationToken = default) =>
        ChangeAsync(actorId, userId, "enable", async (user, _) =>
        {
            if (user.Status != UserStatus.Disabled)
            {
                return AccountChange.Refused("Only disabled accounts can be re-enabled.");
            }
            user.Status = UserStatus.Active;
            return await SaveAsync(users.UpdateAsync(user));
        }, cancellationToken);

    /// <summary>Removes an account for good (a pending one is thereby rejected).</summary>
    public Task<AccountChange> DeleteAsync(string actorId, string userId, CancellationToken cancellationToken = default) =>
        ChangeAsync(actorId, userId, "delete", async (user, isLastActiveAdmin) =>
        {
            if (isLastActiveAdmin)
            {
                return AccountChange.Refused(LastAdminMessage);
            }
            // The rows go with the account (cascade); the files of its chat attachments are deleted here.
            var conversations = await db.Conversations.Where(c => c.UserId == user.Id).Select(c => c.Id).ToListAsync(cancellationToken);
            var deleted = await SaveAsync(users.DeleteAsync(user));
            if (deleted.Succeeded)
            {
                conversations.ForEach(attachments.DeleteConversation);
            }
            return deleted;
        }, cancellationToken);

    /// <summary>Sets a new password chosen by the admin; existing sessions and tokens of the account end.</summary>
    public Task<AccountChange> ResetPasswordAsync(string actorId, string userId, string newPassword, CancellationToken cancellationToken = default) =>
        ChangeAsync(actorId, userId, "reset the password of", async (user, _) =>
        {
            var token = await users.GeneratePasswordResetTokenAsync(user);
            var reset = await SaveAsync(users.ResetPasswordAsync(user, token, newPassword));
            if (reset.Succeeded && await users.IsLockedOutAsync(user))
            {
                return await SaveAsync(users.SetLockoutEndDateAsync(user, null));
            }
            return reset;
        }, cancellationToken);

    /// <summary>Gives an active account the admin role.</summary>
    public Task<AccountChange> PromoteAsync(string actorId, string userId, CancellationToken cancellationToken = default) =>
        ChangeAsync(actorId, userId, "promote", async (user, _) =>
        {
            if (user.Status != UserStatus.Active)
            {
                return AccountChange.Refused("Approve or re-enable the account before making it an admin.");
            }
            if (await users.IsInRoleAsync(user, Roles.Admin))
            {
                return AccountChange.Refused("The account is already an admin.");
            }
            return await SaveAsync(users.AddToRoleAsync(user, Roles.Admin));
        }, cancellationToken);

    /// <summary>Takes the admin role away.</summary>
    public Task<AccountChange> DemoteAsync(string actorId, string userId, CancellationToken cancellationToken = default) =>
        ChangeAsync(actorId, userId, "demote", async (user, isLastActiveAdmin) =>
        {
            if (isLastActiveAdmin)
            {
                return AccountChange.Refused(LastAdminMessage);
            }
            if (!await users.IsInRoleAsync(user, Roles.Admin))
            {
                return AccountChange.Refused("The account is not an admin.");
            }
            return await SaveAsync(users.RemoveFromRoleAsync(user, Roles.Admin));
        }, cancellationToken);

    private async Task<AccountChange> ChangeAsync(
        string actorId,
        string userId,
        string action,
        Func<AppUser, bool, Task<AccountChange>> change,
        CancellationToken cancellationToken)
    {
        using var entered = await gate.EnterAsync(cancellationToken);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);

        var user = await users.FindByIdAsync(userId);
        if (user is null)
        {
            return AccountChange.Refused("The account no longer exists.");
        }

        var isActiveAdmin = user.Status == UserStatus.Active
            && await db.UserRoles.AnyAsync(role => role.UserId == user.Id && role.RoleId == Roles.AdminRoleId, cancellationToken);
        var isLastActiveAdmin = isActiveAdmin && await CountActiveAdminsAsync(cancellationToken) <= 1;

        var result = await change(user, isLastActiveAdmin);
        if (!result.Succeeded)
        {
            await transaction.RollbackAsync(cancellationToken);
            db.ChangeTracker.Clear();
            LogRefused(actorId, action, userId, result.Error);
            return result;
        }

        await transaction.CommitAsync(cancellationToken);
        snapshots.Invalidate(userId);
        LogChanged(userId, action, actorId);
        return result;
    }

    private Task<int> CountActiveAdminsAsync(CancellationToken cancellationToken) =>
        db.Users.CountAsync(
            user => user.Status == UserStatus.Active && db.UserRoles.Any(role => role.UserId == user.Id && role.RoleId == Roles.AdminRoleId),
            cancellationToken);

    private static async Task<AccountChange> SaveAsync(Task<IdentityResult> operation)
    {
        var result = await operation;
        return result.Succeeded
            ? AccountChange.Done
            : AccountChange.Refused(string.Join(" ", result.Errors.Select(error => error.Description)));
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Account {UserId}: {Action} done by admin {ActorId}")]
    private partial void LogChanged(string userId, string action, string actorId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Admin {ActorId} could not {Action} account {UserId}: {Reason}")]
    private partial void LogRefused(string actorId, string action, string userId, string? reason);
}
