using System.Security.Claims;
using Microsoft.AspNetCore.Authorization;
using MlxManager.Core.Accounts;

namespace MlxManager.Web.Accounts;

/// <summary>
/// Authorization policy names. <see cref="ActiveUser"/> is both the default (<c>[Authorize]</c>) and the
/// fallback (every endpoint without an attribute), so new pages are protected without doing anything.
/// </summary>
public static class AccountPolicies
{
    /// <summary>Signed in with an active (approved, not disabled) account. Default and fallback policy.</summary>
    public const string ActiveUser = "ActiveUser";

    /// <summary>Signed in, whatever the account's status: only for /pending and /logout.</summary>
    public const string SignedIn = "SignedIn";

    /// <summary>Active account with the admin role: /admin/users, /admin/jobs.</summary>
    public const string Admin = "Admin";
}

/// <summary>The account exists and is active right now (read from the database, not from the cookie).</summary>
public sealed class ActiveAccountRequirement : IAuthorizationRequirement;

/// <summary>The account has the admin role right now.</summary>
public sealed class AdminRequirement : IAuthorizationRequirement;

/// <summary>
/// Checks both requirements against <see cref="AccountSnapshots"/>, so a disabled, deleted or demoted
/// account loses access at its next request, whether it signed in with a cookie or a bearer token.
/// </summary>
public sealed class AccountAccessHandler(AccountSnapshots snapshots) : IAuthorizationHandler
{
    public async Task HandleAsync(AuthorizationHandlerContext context)
    {
        var pending = context.PendingRequirements
            .Where(requirement => requirement is ActiveAccountRequirement or AdminRequirement)
            .ToList();
        if (pending.Count == 0)
        {
            return;
        }

        var userId = AccountClaims.UserId(context.User);
        var snapshot = userId is null ? null : await snapshots.GetAsync(userId);
        foreach (var requirement in pending)
        {
            var met = requirement switch
            {
                ActiveAccountRequirement => snapshot is { IsActive: true },
                AdminRequirement => snapshot is { IsActive: true, IsAdmin: true },
                _ => false,
            };
            if (met)
            {
                context.Succeed(requirement);
            }
        }
    }
}

/// <summary>Reads the account id from a cookie principal or a bearer-token principal.</summary>
public static class AccountClaims
{
    /// <summary>Claim carrying the security stamp inside API tokens.</summary>
    public const string SecurityStamp = "mlx_stamp";

    /// <summary>The account id, or null for an anonymous principal.</summary>
    public static string? UserId(ClaimsPrincipal principal) =>
        principal.Identity?.IsAuthenticated == true
            ? principal.FindFirstValue(ClaimTypes.NameIdentifier) ?? principal.FindFirstValue("sub")
            : null;
}
