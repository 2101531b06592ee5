using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Filters;
using MlxManager.Web.Accounts;

namespace MlxManager.Web.Pages.Servers;

/// <summary>Marks a page handler that only administrators may run (e.g. start or stop a server).</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class AdminOnlyAttribute : Attribute;

/// <summary>
/// On a page model: its handlers marked <see cref="AdminOnlyAttribute"/> require the <see cref="AccountPolicies.Admin"/>
/// policy (403 otherwise), while its other handlers stay open to every active user. Razor Pages authorize whole
/// pages only; this keeps "everyone watches, admins act" on one page.
/// </summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class AdminOnlyHandlersAttribute : Attribute, IAsyncPageFilter
{
    public Task OnPageHandlerSelectionAsync(PageHandlerSelectedContext context) => Task.CompletedTask;

    public async Task OnPageHandlerExecutionAsync(PageHandlerExecutingContext context, PageHandlerExecutionDelegate next)
    {
        if (context.HandlerMethod?.MethodInfo.IsDefined(typeof(AdminOnlyAttribute), inherit: false) == true)
        {
            var authorization = context.HttpContext.RequestServices.GetRequiredService<IAuthorizationService>();
            if (!(await authorization.AuthorizeAsync(context.HttpContext.User, AccountPolicies.Admin)).Succeeded)
            {
                context.Result = new ForbidResult();
                return;
            }
        }

        await next();
    }
}
