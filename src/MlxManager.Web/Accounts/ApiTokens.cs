using System.Security.Claims;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using MlxManager.Core.Accounts;
using MlxManager.Web.Hosting;

namespace MlxManager.Web.Accounts;

/// <summary>Issues and validates the bearer tokens (JWT, HMAC-SHA256) that API clients use.</summary>
public sealed class ApiTokens(ApiSigningKey signingKey, TimeProvider time, IOptions<AccountOptions> options)
{
    /// <summary>Issuer and audience written into every token.</summary>
    public const string Issuer = "mlx-manager";

    /// <summary>Audience of the tokens: this installation's API.</summary>
    public const string Audience = "mlx-manager-api";

    /// <summary>A signed token for <paramref name="user"/>, valid for <see cref="AccountOptions.SessionLifetime"/>.</summary>
    public (string Token, DateTimeOffset ExpiresAt) Issue(AppUser user)
    {
        var now = time.GetUtcNow();
        var expires = now + options.Value.SessionLifetime;
        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = Issuer,
            Audience = Audience,
            IssuedAt = now.UtcDateTime,
            NotBefore = now.UtcDateTime,
            Expires = expires.UtcDateTime,
            SigningCredentials = new SigningCredentials(SecurityKey(signingKey), SecurityAlgorithms.HmacSha256),
            Subject = new ClaimsIdentity(
            [
                new Claim(JwtRegisteredClaimNames.Sub, user.Id),
                new Claim(JwtRegisteredClaimNames.Email, user.Email ?? ""),
                new Claim(JwtRegisteredClaimNames.Jti, Guid.NewGuid().ToString("N")),
                new Claim(AccountClaims.SecurityStamp, user.SecurityStamp ?? ""),
            ]),
        };
        return (new JsonWebTokenHandler().CreateToken(descriptor), expires);
    }

    /// <summary>Validation rules matching <see cref="Issue"/>.</summary>
    public static void Configure(JwtBearerOptions options, ApiSigningKey signingKey, TimeProvider time)
    {
        options.MapInboundClaims = false;
        options.TokenValidationParameters = new TokenValidationParameters
        {
            ValidIssuer = Issuer,
            ValidAudience = Audience,
            IssuerSigningKey = SecurityKey(signingKey),
            ValidAlgorithms = [SecurityAlgorithms.HmacSha256],
            ClockSkew = TimeSpan.FromMinutes(1),
            NameClaimType = JwtRegisteredClaimNames.Email,
            LifetimeValidator = (notBefore, expires, _, parameters) =>
            {
                var now = time.GetUtcNow().UtcDateTime;
                return (notBefore is null || notBefore.Value <= now + parameters.ClockSkew)
                    && expires is not null && now - parameters.ClockSkew < expires.Value;
            },
        };
        options.EventsType = typeof(ApiTokenEvents);
    }

    private static SymmetricSecurityKey SecurityKey(ApiSigningKey signingKey) => new(signingKey.Bytes) { KeyId = "mlx-manager-api-1" };
}

/// <summary>
/// Refuses a token at once when its account is no longer active or its security stamp changed
/// (password reset, disable), and answers 401/403 as problem details.
/// </summary>
public sealed partial class ApiTokenEvents(AccountSnapshots snapshots, IProblemDetailsService problemDetails, ILogger<ApiTokenEvents> logger) : JwtBearerEvents
{
    public override async Task TokenValidated(TokenValidatedContext context)
    {
        var userId = AccountClaims.UserId(context.Principal!);
        var snapshot = userId is null ? null : await snapshots.GetAsync(userId, context.HttpContext.RequestAborted);
        var stamp = context.Principal!.FindFirst(AccountClaims.SecurityStamp)?.Value;
        var refusal = snapshot switch
        {
            null => "the account no longer exists",
            { IsActive: false } => $"the account is {snapshot.Status.ToString().ToLowerInvariant()}",
            _ when !string.Equals(snapshot.SecurityStamp, stamp, StringComparison.Ordinal) => "the token was revoked",
            _ => null,
        };
        if (refusal is not null)
        {
            LogRefused(userId ?? "(none)", refusal);
            context.Fail("Token refused: " + refusal + ".");
        }
    }

    public override async Task Challenge(JwtBearerChallengeContext context)
    {
        context.HandleResponse();
        var http = context.HttpContext;
        http.Response.StatusCode = StatusCodes.Status401Unauthorized;
        http.Response.Headers.WWWAuthenticate = "Bearer";
        await problemDetails.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = http,
            ProblemDetails =
            {
                Status = StatusCodes.Status401Unauthorized,
                Title = "Sign-in required.",
                Detail = context.AuthenticateFailure is null
                    ? "Send 'Authorization: Bearer <token>'; get a token from POST /api/auth/token."
                    : "The token is invalid, expired or revoked, or the account is no longer active. Request a new token.",
            },
        });
    }

    public override async Task Forbidden(ForbiddenContext context)
    {
        var http = context.HttpContext;
        http.Response.StatusCode = StatusCodes.Status403Forbidden;
        await problemDetails.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = http,
            ProblemDetails = { Status = StatusCodes.Status403Forbidden, Title = "Your account may not do this." },
        });
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Refused an API token of account {UserId}: {Reason}")]
    private partial void LogRefused(string userId, string reason);
}
