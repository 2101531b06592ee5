using System.Collections.Concurrent;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using MlxManager.Core.Data;

namespace MlxManager.Core.Accounts;

/// <summary>What authorization needs to know about an account, read from the database.</summary>
/// <param name="UserId">Identity user id.</param>
/// <param name="Email">E-mail address (also the user name).</param>
/// <param name="Status">Pending, active or disabled.</param>
/// <param name="IsAdmin">Whether the account has the <see cref="Roles.Admin"/> role.</param>
/// <param name="SecurityStamp">Identity security stamp; changes when sessions and tokens must end.</param>
public sealed record AccountSnapshot(string UserId, string Email, UserStatus Status, bool IsAdmin, string? SecurityStamp)
{
    /// <summary>True when the account may use the app.</summary>
    public bool IsActive => Status == UserStatus.Active;
}

/// <summary>Settings under <c>MlxManager:Accounts</c>.</summary>
public sealed class AccountOptions
{
    /// <summary>Configuration section.</summary>
    public const string Section = "MlxManager:Accounts";

    /// <summary>How long a status read from the database is reused. Changes made through
    /// <see cref="UserAdministration"/> invalidate it at once; this only bounds changes made elsewhere.</summary>
    public TimeSpan StatusCacheDuration { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Lifetime of browser sessions and API tokens.</summary>
    public TimeSpan SessionLifetime { get; set; } = TimeSpan.FromDays(7);

    /// <summary>How often a browser session is checked against the database (security stamp).</summary>
    public TimeSpan SessionRevalidationInterval { get; set; } = TimeSpan.FromMinutes(1);
}

/// <summary>
/// Current status and role of each account, read on every authenticated request (cookie or bearer)
/// so a disabled, deleted or demoted account loses access at its next request. A tiny cache keeps this
/// to one query per user every few seconds; every change made by the app calls <see cref="Invalidate"/>.
/// </summary>
public sealed class AccountSnapshots(IServiceScopeFactory scopes, TimeProvider time, IOptions<AccountOptions> options)
{
    private readonly ConcurrentDictionary<string, (AccountSnapshot? Snapshot, DateTimeOffset ReadAt)> _cache = new();

    /// <summary>The account's current snapshot, or null when it no longer exists.</summary>
    public async Task<AccountSnapshot?> GetAsync(string userId, CancellationToken cancellationToken = default)
    {
        var now = time.GetUtcNow();
        if (_cache.TryGetValue(userId, out var cached) && now - cached.ReadAt < options.Value.StatusCacheDuration)
        {
            return cached.Snapshot;
        }

        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var snapshot = await db.Users
            .AsNoTracking()
            .Where(user => user.Id == userId)
            .Select(user => new AccountSnapshot(
                user.Id,
                user.Email ?? "",
                user.Status,
                db.UserRoles.Any(role => role.UserId == user.Id && role.RoleId == Roles.AdminRoleId),
                user.SecurityStamp))
            .FirstOrDefaultAsync(cancellationToken);
        _cache[userId] = (snapshot, now);
        return snapshot;
    }

    /// <summary>Forgets the cached snapshot so the next request reads the database.</summary>
    public void Invalidate(string userId) => _cache.TryRemove(userId, out _);
}
