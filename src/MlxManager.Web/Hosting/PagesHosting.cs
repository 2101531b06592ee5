namespace MlxManager.Web.Hosting;

/// <summary>Razor Pages. Pages are protected by the fallback policy unless they say otherwise.</summary>
public static class PagesHosting
{
    public static WebApplicationBuilder AddPages(this WebApplicationBuilder builder)
    {
        builder.Services.AddRazorPages();
        return builder;
    }

    public static WebApplication MapPages(this WebApplication app)
    {
        app.MapRazorPages();
        return app;
    }
}
