using Hangfire;
using Microsoft.Extensions.Options;
using MlxManager.Core.Data;
using MlxManager.Core.Downloads;
using MlxManager.Web.Endpoints;

namespace MlxManager.Web.Hosting;

/// <summary>
/// Model downloads (issue 5): Hangfire jobs into the standard Hugging Face cache on the
/// <see cref="DownloadJob.HangfireQueue"/> queue, served by a Hangfire server of its own whose worker count is
/// <see cref="DownloadOptions.MaxConcurrent"/>; the recurring <see cref="DownloadRecovery"/>; the progress board and
/// its SSE stream, the download tiles' endpoints under <c>/downloads</c> and a JSON API under <c>/api/downloads</c>.
/// Settings: <c>MlxManager:Downloads</c> (<see cref="DownloadOptions"/>). The commits' file lists are kept in
/// <c>&lt;data&gt;/manifests</c> (the library judges completeness by them).
/// </summary>
public static class DownloadsHosting
{
    public static WebApplicationBuilder AddDownloads(this WebApplicationBuilder builder)
    {
        builder.Services.AddModelDownloads(provider => provider.GetRequiredService<DataDirectory>().PathFor("manifests"));
        builder.Services.AddRecurringJob(DownloadRecovery.Schedule);
        builder.Services.AddHangfireServer((provider, server) =>
        {
            server.Queues = [DownloadJob.HangfireQueue];
            server.WorkerCount = Math.Max(1, provider.GetRequiredService<IOptions<DownloadOptions>>().Value.MaxConcurrent);
            server.IsLightweightServer = true; // the general server runs the schedulers and the storage's upkeep
            server.ShutdownTimeout = TimeSpan.FromSeconds(10);
            server.ServerName = $"{Environment.MachineName}:{Environment.ProcessId}:downloads:{Guid.NewGuid():N}";
        });
        return builder;
    }

    public static WebApplication MapDownloads(this WebApplication app)
    {
        app.MapDownloadEndpoints();
        return app;
    }
}
