using System.Security.Claims;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Filters;

namespace MlxManager.Web.Accounts;

/// <summary>
/// Marks a page handler that only administrators may run (start a server, delete a model) on a page every active
/// user sees. Razor Pages authorize whole pages only; <see cref="AdminOnlyHandlerFilter"/>, registered for every page,
/// checks the <see cref="AccountPolicies.Admin"/> policy before such a handler runs and answers 403 otherwise.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class AdminOnlyAttribute : Attribute;

/// <summary>The one place that enforces <see cref="AdminOnlyAttribute"/> (a global page filter, see PagesHosting).</summary>
public sealed class AdminOnlyHandlerFilter : IAsyncPageFilter
{
    public Task OnPageHandlerSelectionAsync(PageHandlerSelectedContext context) => Task.CompletedTask;

    public async Task OnPageHandlerExecutionAsync(PageHandlerExecutingContext context, PageHandlerExecutionDelegate next)
    {
        if (context.HandlerMethod?.MethodInfo.IsDefined(typeof(AdminOnlyAttribute), inherit: false) == true
            && !await context.HttpContext.RequestServices.GetRequiredService<IAuthorizationService>().IsAdminAsync(context.HttpContext.User))
        {
            context.Result = new ForbidResult();
            return;
        }

        await next();
    }
}

/// <summary>"Is this user an admin right now?" for what a page shows: the <see cref="AccountPolicies.Admin"/> policy, never a role claim.</summary>
public static class AdminAuthorization
{
    /// <summary>True when <paramref name="user"/> meets the <see cref="AccountPolicies.Admin"/> policy (active, admin role, read per request).</summary>
    public static async Task<bool> IsAdminAsync(this IAuthorizationService authorization, ClaimsPrincipal user) =>
        (await authorization.AuthorizeAsync(user, AccountPolicies.Admin)).Succeeded;
}
