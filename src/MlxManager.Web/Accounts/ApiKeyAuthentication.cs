using System.Security.Claims;
using System.Security.Cryptography;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using MlxManager.Core.Accounts;
using MlxManager.Core.Accounts.Keys;

namespace MlxManager.Web.Accounts;

/// <summary>Names of the personal-API-key scheme, its header and the claims of a key's principal.</summary>
public static class ApiKeyAuthentication
{
    /// <summary>Authentication scheme of personal API keys. The default (policy) scheme forwards here by itself.</summary>
    public const string Scheme = "ApiKey";

    /// <summary>The header that carries a key instead of <c>Authorization: Bearer</c>.</summary>
    public const string HeaderName = "x-api-key";

    /// <summary>Claim carrying the key's id; its presence is what marks a key principal.</summary>
    public const string KeyIdClaim = "mlx_key";

    /// <summary>Claim carrying the key's scopes (<see cref="ApiKeyScopes"/> as a number).</summary>
    public const string ScopesClaim = "mlx_scopes";

    /// <summary>Claim carrying the key's <see cref="Core.Gateway.RequestPriority"/> (a number).</summary>
    public const string PriorityClaim = "mlx_priority";

    /// <summary>The secret sent with the request (either header), or null when the request carries no key.</summary>
    public static string? SecretOf(HttpRequest request)
    {
        if (request.Headers.TryGetValue(HeaderName, out var header) && header.Count > 0)
        {
            return header.ToString().Trim();
        }
        var authorization = request.Headers.Authorization.ToString();
        return authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)
            && ApiKeySecret.LooksLikeSecret(authorization["Bearer ".Length..].Trim())
            ? authorization["Bearer ".Length..].Trim()
            : null;
    }

    /// <summary>True when the request should be authenticated by this scheme (it carries a key).</summary>
    public static bool CarriesKey(HttpRequest request) => SecretOf(request) is not null;

    /// <summary>The key's scopes when <paramref name="principal"/> signed in with a key; null for a cookie or a JWT.</summary>
    public static ApiKeyScopes? ScopesOf(ClaimsPrincipal principal) =>
        principal.FindFirst(ScopesClaim) is { } claim && principal.HasClaim(candidate => candidate.Type == KeyIdClaim)
            ? (ApiKeyScopes)int.Parse(claim.Value, System.Globalization.CultureInfo.InvariantCulture)
            : null;

    /// <summary>The key's id when <paramref name="principal"/> signed in with a key; null for a cookie or a JWT.</summary>
    public static int? KeyIdOf(ClaimsPrincipal principal) =>
        principal.FindFirst(KeyIdClaim) is { } claim ? int.Parse(claim.Value, System.Globalization.CultureInfo.InvariantCulture) : null;

    /// <summary>The key's priority in the gateway's lanes; interactive for a cookie or a JWT.</summary>
    public static Core.Gateway.RequestPriority PriorityOf(ClaimsPrincipal principal) =>
        principal.FindFirst(PriorityClaim) is { } claim
            ? (Core.Gateway.RequestPriority)int.Parse(claim.Value, System.Globalization.CultureInfo.InvariantCulture)
            : Core.Gateway.RequestPriority.Interactive;
}

/// <summary>
/// Authenticates <c>Authorization: Bearer mlxm_…</c> and <c>x-api-key: mlxm_…</c>: looks the key up by the hash of the
/// secret, refuses revoked and expired keys and keys whose owner is not active right now (<see cref="AccountSnapshots"/>,
/// read per request), records the use in memory (<see cref="ApiKeyUse"/>) and answers 401/403 as problem details.
/// Which endpoints a key reaches is decided by authorization (<see cref="AccountAccessHandler"/>, <see cref="ApiKeyScopeRequirement"/>).
/// </summary>
public sealed partial class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory loggers,
    UrlEncoder encoder,
    PersonalApiKeys keys,
    AccountSnapshots snapshots,
    ApiKeyUse uses,
    TimeProvider time,
    IProblemDetailsService problemDetails)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, loggers, encoder)
{
    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var secret = ApiKeyAuthentication.SecretOf(Request);
        if (secret is null)
        {
            return AuthenticateResult.NoResult();
        }

        var hash = ApiKeySecret.HashOf(secret);
        var key = ApiKeySecret.LooksLikeSecret(secret) ? await keys.FindByHashAsync(hash, Context.RequestAborted) : null;
        if (key is null || !CryptographicOperations.FixedTimeEquals(key.SecretHash, hash))
        {
            return Refuse("unknown key", key);
        }
        var now = time.GetUtcNow().UtcDateTime;
        var status = key.StatusAt(now);
        if (status != ApiKeyStatus.Active)
        {
            return Refuse(status == ApiKeyStatus.Revoked ? "the key was revoked" : "the key has expired", key);
        }
        var owner = await snapshots.GetAsync(key.UserId, Context.RequestAborted);
        if (owner is not { IsActive: true })
        {
            return Refuse(owner is null ? "the owner no longer exists" : $"the owner is {owner.Status.ToString().ToLowerInvariant()}", key);
        }

        uses.Record(key.Id, now, ClientAddress.Of(Context));
        var identity = new ClaimsIdentity(
            [
                new Claim(JwtRegisteredClaimNames.Sub, key.UserId),
                new Claim(JwtRegisteredClaimNames.Email, owner.Email),
                new Claim(ApiKeyAuthentication.KeyIdClaim, key.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                new Claim(ApiKeyAuthentication.ScopesClaim, ((int)key.Scopes).ToString(System.Globalization.CultureInfo.InvariantCulture)),
                new Claim(ApiKeyAuthentication.PriorityClaim, ((int)key.Priority).ToString(System.Globalization.CultureInfo.InvariantCulture)),
            ],
            ApiKeyAuthentication.Scheme,
            JwtRegisteredClaimNames.Email,
            ClaimTypes.Role);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), Scheme.Name));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties) =>
        WriteProblemAsync(StatusCodes.Status401Unauthorized, "Sign-in required.",
            "The API key is unknown, revoked or expired, or its owner's account is no longer active.");

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        WriteProblemAsync(StatusCodes.Status403Forbidden, "This API key may not do this.",
            "The key's scopes do not cover this endpoint (/api needs 'manage', held by an administrator).");

    private AuthenticateResult Refuse(string reason, ApiKey? key)
    {
        LogRefused(Logger, key?.Id, reason);
        return AuthenticateResult.Fail("API key refused: " + reason + ".");
    }

    private async Task WriteProblemAsync(int status, string title, string detail)
    {
        Response.StatusCode = status;
        if (status == StatusCodes.Status401Unauthorized)
        {
            Response.Headers.WWWAuthenticate = "Bearer";
        }
        await problemDetails.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = Context,
            ProblemDetails = { Status = status, Title = title, Detail = detail },
        });
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Refused API key {KeyId}: {Reason}")]
    private static partial void LogRefused(ILogger logger, int? keyId, string reason);
}
