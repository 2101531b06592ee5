using System.Security.Claims;
using Microsoft.AspNetCore.Authorization;
using MlxManager.Core.Accounts;
using MlxManager.Core.Accounts.Keys;
using MlxManager.Web.Hosting;

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

    /// <summary>
    /// The inference gateway (<c>/v1</c>): an active account; a personal API key needs the <c>inference</c> scope,
    /// a bearer JWT or a session counts as having it.
    /// </summary>
    public const string Inference = "Inference";

    /// <summary>Metrics (<c>/metrics</c>): a personal API key with the <c>metrics</c> scope, or an active admin.</summary>
    public const string Metrics = "Metrics";
}

/// <summary>The account exists and is active right now (read from the database, not from the cookie).</summary>
public sealed class ActiveAccountRequirement : IAuthorizationRequirement;

/// <summary>The account has the admin role right now.</summary>
public sealed class AdminRequirement : IAuthorizationRequirement;

/// <summary>
/// A personal API key must hold <see cref="Scope"/>. Principals without a key (session, JWT) meet it, unless
/// <see cref="OthersNeedAdmin"/>: then they must be an active admin.
/// </summary>
public sealed record ApiKeyScopeRequirement(ApiKeyScopes Scope, bool OthersNeedAdmin = false) : IAuthorizationRequirement;

/// <summary>
/// Checks both requirements against <see cref="AccountSnapshots"/>, so a disabled, deleted or demoted
/// account loses access at its next request, whether it signed in with a cookie, a bearer token or an API key.
/// A key reaches only what its scopes open: a policy with an <see cref="ApiKeyScopeRequirement"/>, or <c>/api/*</c>
/// with the <c>manage</c> scope held by an admin. Anything else (pages, browser endpoints) refuses keys.
/// </summary>
public sealed class AccountAccessHandler(AccountSnapshots snapshots) : IAuthorizationHandler
{
    public async Task HandleAsync(AuthorizationHandlerContext context)
    {
        var pending = context.PendingRequirements
            .Where(requirement => requirement is ActiveAccountRequirement or AdminRequirement or ApiKeyScopeRequirement)
            .ToList();
        if (pending.Count == 0)
        {
            return;
        }

        var userId = AccountClaims.UserId(context.User);
        var snapshot = userId is null ? null : await snapshots.GetAsync(userId);
        if (ApiKeyAuthentication.ScopesOf(context.User) is { } scopes && !KeyMayReach(context, scopes, snapshot))
        {
            return;
        }
        foreach (var requirement in pending)
        {
            var met = requirement switch
            {
                ActiveAccountRequirement => snapshot is { IsActive: true },
                AdminRequirement => snapshot is { IsActive: true, IsAdmin: true },
                ApiKeyScopeRequirement scope => ApiKeyAuthentication.ScopesOf(context.User) is { } keyScopes
                    ? keyScopes.HasFlag(scope.Scope) && snapshot is { IsActive: true }
                    : !scope.OthersNeedAdmin || snapshot is { IsActive: true, IsAdmin: true },
                _ => false,
            };
            if (met)
            {
                context.Succeed(requirement);
            }
        }
    }

    private static bool KeyMayReach(AuthorizationHandlerContext context, ApiKeyScopes scopes, AccountSnapshot? owner) =>
        context.Requirements.OfType<ApiKeyScopeRequirement>().Any()
        || (context.Resource is HttpContext http && http.IsApiRequest() && scopes.HasFlag(ApiKeyScopes.Manage) && owner is { IsAdmin: true });
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
