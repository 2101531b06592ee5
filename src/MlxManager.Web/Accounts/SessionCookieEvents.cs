using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Identity;
using MlxManager.Core.Accounts;
using MlxManager.Web.Hosting;

namespace MlxManager.Web.Accounts;

/// <summary>
/// What a browser session does when it is missing or not enough: pages redirect to the login page,
/// htmx requests get <c>HX-Redirect</c>, pending accounts go to /pending, disabled or deleted accounts
/// are signed out, and the API gets 401/403 problem details.
/// </summary>
public sealed partial class SessionCookieEvents(AccountSnapshots snapshots, IProblemDetailsService problemDetails, ILogger<SessionCookieEvents> logger)
    : CookieAuthenticationEvents
{
    // Setting EventsType replaces the events Identity installs, so keep its security-stamp check:
    // it re-reads the account every SessionRevalidationInterval and ends the session if the stamp changed.
    public override Task ValidatePrincipal(CookieValidatePrincipalContext context) =>
        SecurityStampValidator.ValidatePrincipalAsync(context);

    public override async Task RedirectToLogin(RedirectContext<CookieAuthenticationOptions> context)
    {
        if (context.HttpContext.IsApiRequest())
        {
            await WriteProblemAsync(context.HttpContext, StatusCodes.Status401Unauthorized, "Sign-in required.");
            return;
        }
        HtmxRedirects.RedirectBrowser(context.HttpContext, HtmxRedirects.LoginUrl(context.HttpContext));
    }

    public override async Task RedirectToAccessDenied(RedirectContext<CookieAuthenticationOptions> context)
    {
        var http = context.HttpContext;
        var userId = AccountClaims.UserId(http.User);
        var snapshot = userId is null ? null : await snapshots.GetAsync(userId, http.RequestAborted);

        if (snapshot is { Status: UserStatus.Pending })
        {
            HtmxRedirects.RedirectBrowser(http, http.Request.PathBase + "/pending");
            return;
        }

        if (snapshot is null or { Status: UserStatus.Disabled })
        {
            // The account was disabled or deleted while this session was open: end it now.
            LogSessionEnded(userId ?? "(unknown)", snapshot is null ? "deleted" : "disabled");
            await http.SignOutAsync(IdentityConstants.ApplicationScheme);
            HtmxRedirects.RedirectBrowser(http, HtmxRedirects.LoginUrl(http, snapshot is null ? "removed" : "disabled"));
            return;
        }

        if (http.IsApiRequest())
        {
            await WriteProblemAsync(http, StatusCodes.Status403Forbidden, "Your account may not do this.");
            return;
        }
        http.Response.StatusCode = StatusCodes.Status403Forbidden; // rendered by /status/403
    }

    private async Task WriteProblemAsync(HttpContext http, int status, string title)
    {
        http.Response.StatusCode = status;
        await problemDetails.WriteAsync(new ProblemDetailsContext { HttpContext = http, ProblemDetails = { Status = status, Title = title } });
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Ended the session of account {UserId}: the account was {Reason}")]
    private partial void LogSessionEnded(string userId, string reason);
}
