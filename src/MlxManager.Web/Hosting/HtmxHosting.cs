using Htmx.TagHelpers;

namespace MlxManager.Web.Hosting;

/// <summary>
/// htmx support. Every POST, htmx or not, needs the antiforgery token: plain forms carry it as a hidden
/// field (form tag helper); htmx requests get it as a header from Htmx.Net's script
/// (<c>/_htmx/antiforgery.js</c>), which reads the token the <c>htmx-config</c> meta tag in the layout
/// renders (<c>includeAspNetAntiforgeryToken</c>, with <c>selfRequestsOnly</c> kept true).
/// </summary>
public static class HtmxHosting
{
    /// <summary>Header htmx sends the antiforgery token in.</summary>
    public const string AntiforgeryHeader = "RequestVerificationToken";

    public static WebApplicationBuilder AddHtmx(this WebApplicationBuilder builder)
    {
        builder.Services.AddAntiforgery(options =>
        {
            options.HeaderName = AntiforgeryHeader;
            options.Cookie.Name = "mlxmanager.antiforgery";
        });
        return builder;
    }

    public static WebApplication MapHtmx(this WebApplication app)
    {
        app.MapHtmxAntiforgeryScript().AllowAnonymous();
        return app;
    }
}
