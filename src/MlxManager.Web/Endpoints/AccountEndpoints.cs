using System.ComponentModel.DataAnnotations;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.HttpResults;
using MlxManager.Core.Accounts;
using MlxManager.Web.Accounts;
using MlxManager.Web.Hosting;

namespace MlxManager.Web.Endpoints;

/// <summary>Body of <c>POST /api/auth/token</c>.</summary>
public sealed record TokenRequest(string? Email, string? Password);

/// <summary>Answer of <c>POST /api/auth/token</c> (OAuth-style names).</summary>
public sealed record TokenResponse(
    [property: JsonPropertyName("access_token")] string AccessToken,
    [property: JsonPropertyName("token_type")] string TokenType,
    [property: JsonPropertyName("expires_at")] DateTimeOffset ExpiresAt);

/// <summary>Answer of <c>GET /api/me</c>: who the token belongs to.</summary>
public sealed record CurrentAccount(string Id, string Email, string Status, bool IsAdmin);

/// <summary>API sign-in: exchange e-mail and password for a bearer token; see who you are.</summary>
public static partial class AccountEndpoints
{
    public static WebApplication MapAccountEndpoints(this WebApplication app)
    {
        var api = app.MapGroup("/api");
        api.MapPost("/auth/token", IssueTokenAsync)
            .AllowAnonymous()
            .RequireRateLimiting(RateLimitsHosting.SignInPolicy)
            .WithName("IssueApiToken");
        api.MapGet("/me", GetCurrentAccountAsync).WithName("CurrentAccount");
        return app;
    }

    private static async Task<Results<Ok<TokenResponse>, ValidationProblem, ProblemHttpResult>> IssueTokenAsync(
        TokenRequest? request,
        SignInLockout lockout,
        HttpContext http,
        ApiTokens tokens,
        ILoggerFactory loggers)
    {
        var errors = new Dictionary<string, string[]>();
        if (string.IsNullOrWhiteSpace(request?.Email) || !new EmailAddressAttribute().IsValid(request.Email))
        {
            errors["email"] = ["Enter a valid e-mail address."];
        }
        if (string.IsNullOrEmpty(request?.Password))
        {
            errors["password"] = ["Enter the password."];
        }
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        var check = await lockout.CheckAsync(request!.Email!, request.Password!, http);
        if (check.Verdict == SignInVerdict.LockedOut)
        {
            // The same answer whether the account exists or not.
            return TypedResults.Problem(statusCode: StatusCodes.Status429TooManyRequests, title: "Too many failed sign-in attempts.",
                detail: SignInLockout.LockedOutMessage);
        }
        if (check.Verdict == SignInVerdict.Invalid)
        {
            return InvalidCredentials();
        }
        var user = check.User!;
        if (user.Status != UserStatus.Active)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status403Forbidden,
                title: user.Status == UserStatus.Pending ? "The account is waiting for an administrator's approval." : "The account has been disabled.");
        }

        var (token, expiresAt) = tokens.Issue(user);
        LogTokenIssued(loggers.CreateLogger(typeof(AccountEndpoints)), user.Id, expiresAt);
        return TypedResults.Ok(new TokenResponse(token, "Bearer", expiresAt));
    }

    private static async Task<Results<Ok<CurrentAccount>, NotFound>> GetCurrentAccountAsync(HttpContext context, AccountSnapshots snapshots)
    {
        var userId = AccountClaims.UserId(context.User);
        var snapshot = userId is null ? null : await snapshots.GetAsync(userId, context.RequestAborted);
        return snapshot is null
            ? TypedResults.NotFound()
            : TypedResults.Ok(new CurrentAccount(snapshot.UserId, snapshot.Email, snapshot.Status.ToString().ToLowerInvariant(), snapshot.IsAdmin));
    }

    private static ProblemHttpResult InvalidCredentials() =>
        TypedResults.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "Wrong e-mail or password.");

    [LoggerMessage(Level = LogLevel.Information, Message = "Issued an API token to account {UserId}, valid until {ExpiresAt}")]
    private static partial void LogTokenIssued(ILogger logger, string userId, DateTimeOffset expiresAt);
}
