using MlxManager.Core.Data;
using MlxManager.Core.Downloads;
using MlxManager.Web.Endpoints;

namespace MlxManager.Web.Hosting;

/// <summary>
/// Model downloads (issue 5): Hangfire jobs into the standard Hugging Face cache, the queue, the progress board and
/// its SSE stream, the download tiles' endpoints under <c>/downloads</c> and a JSON API under <c>/api/downloads</c>.
/// Settings: <c>MlxManager:Downloads</c> (<see cref="DownloadOptions"/>). The commits' file lists are kept in
/// <c>&lt;data&gt;/manifests</c> (the library judges completeness by them).
/// </summary>
public static class DownloadsHosting
{
    public static WebApplicationBuilder AddDownloads(this WebApplicationBuilder builder)
    {
        builder.Services.AddModelDownloads(provider => provider.GetRequiredService<DataDirectory>().PathFor("manifests"));
        builder.Services.AddSingleton<RazorPartials>();
        return builder;
    }

    public static WebApplication MapDownloads(this WebApplication app)
    {
        app.MapDownloadEndpoints();
        return app;
    }
}
