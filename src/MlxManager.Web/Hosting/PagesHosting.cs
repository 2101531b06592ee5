using MlxManager.Web.Accounts;
using MlxManager.Web.Endpoints;

namespace MlxManager.Web.Hosting;

/// <summary>
/// Razor Pages and who may open them, in one place. Every page not named here needs the fallback policy
/// (<see cref="AccountPolicies.ActiveUser"/>); admin-only handlers on pages every user sees carry
/// <see cref="AdminOnlyAttribute"/> next to the handler.
/// </summary>
public static class PagesHosting
{
    public static WebApplicationBuilder AddPages(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<RazorPartials>(); // named partials rendered outside a page (SSE, cached fragments)
        builder.Services.AddRazorPages(options =>
        {
            var pages = options.Conventions;
            pages.AllowAnonymousToPage("/Account/Login");
            pages.AllowAnonymousToPage("/Account/Register");
            pages.AllowAnonymousToPage("/Error");
            pages.AllowAnonymousToPage("/Status");
            pages.AuthorizePage("/Account/Pending", AccountPolicies.SignedIn);
            pages.AuthorizePage("/Account/Logout", AccountPolicies.SignedIn);
            pages.AuthorizeFolder("/Admin", AccountPolicies.Admin);
            pages.AuthorizePage("/Profiles/New", AccountPolicies.Admin);
            pages.AuthorizePage("/Profiles/Edit", AccountPolicies.Admin);
            pages.AuthorizePage("/Profiles/Delete", AccountPolicies.Admin);
            options.Conventions.ConfigureFilter(new AdminOnlyHandlerFilter());
        });
        return builder;
    }

    public static WebApplication MapPages(this WebApplication app)
    {
        app.MapRazorPages();
        return app;
    }
}
