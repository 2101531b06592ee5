using MlxManager.Core.Data;
using MlxManager.Web.Endpoints;

namespace MlxManager.Web.Hosting;

/// <summary>
/// The whole app in two calls. Each concern lives in its own <c>Hosting/*.cs</c> file with an
/// <c>AddX(this WebApplicationBuilder)</c> and, when it needs middleware or endpoints, a
/// <c>UseX</c>/<c>MapX(this WebApplication)</c>. To add a feature, write its file and add one line to
/// each list below, keeping the order comments true.
/// </summary>
public static class MlxManagerHosting
{
    /// <summary>Registers every service of the app.</summary>
    public static WebApplicationBuilder AddMlxManager(this WebApplicationBuilder builder)
    {
        builder.AddDataFolder();        // DataDirectory, default URL, web root, data-folder lock
        builder.AddProxy();             // forwarded headers from known proxies, Secure cookies
        builder.AddErrorHandling();     // problem details, exception handler, correlation ids
        builder.AddDatabase();          // AppDbContext on app.db; migrations at start (before jobs start)
        builder.AddDataProtection();    // keys in <data>/keys, so sessions survive restarts
        builder.AddAccounts();          // Identity, cookie + JWT bearer, policies
        builder.AddRateLimits();        // sign-in / register / token limits
        builder.AddSseLimits();         // open event streams per account
        builder.AddJobs();              // Hangfire on jobs.db, in-process server
        builder.AddServers();           // engines, metrics sampler, server supervisor (re-attaches, auto-starts)
        builder.AddHtmx();              // antiforgery for htmx requests
        builder.AddPages();             // Razor Pages
        builder.AddModels();            // library, detection jobs, Hub client, model settings
        builder.AddDownloads();         // download jobs, queue, progress board (after AddModels: replaces its manifest store)
        builder.AddChat();              // chat turns and history, engine client, MCP server + clients
        builder.AddGateway();           // OpenAI-compatible /v1: routing, lanes, on-demand start, idle unload
        builder.AddUsage();             // usage ledger: recording off the request path, batched writer
        builder.AddPrometheusMetrics(); // /metrics: servers' gauges, request and token counters per profile
        builder.AddUsageReports();      // /usage: reports from the ledger's daily totals, requests in the lanes now
        return builder;
    }

    /// <summary>Builds the request pipeline and maps every endpoint.</summary>
    public static WebApplication UseMlxManager(this WebApplication app)
    {
        app.Services.GetRequiredService<DataFolderLock>(); // before anything opens a database: a second instance stops here
        app.StartPreparingDatabase();   // migrations on a pool thread while the pipeline below is built (awaited before serving)
        app.StartPreparingJobs();       // jobs.db, requeued and recurring jobs on another (awaited before the job servers start)
        app.UseProxy();                 // first: client address and scheme as the browser sent them
        app.UseSecurityHeaders();       // CSP, no framing, referrer, nosniff on every response
        app.UseErrorHandling();         // catches everything below
        app.UseStaticFiles();           // wwwroot, anonymous
        app.UseRouting();
        app.UseRateLimiter();           // after routing: policies come from endpoint metadata
        app.UseAuthentication();
        app.UseAuthorization();         // fallback policy: signed in AND active
        app.UseSseLimits();             // after authorization: counts each account's event streams

        app.MapAccountEndpoints();      // /api/auth/token, /api/me
        app.MapHtmx();                  // /_htmx/antiforgery.js
        app.MapServers();               // /servers/events (SSE for the Servers page)
        app.MapDownloads();             // /downloads (tiles, SSE), /api/downloads
        app.MapPages();                 // Razor Pages
        app.MapChat();                  // /mcp, /chat/turns/{id}/events, /chat/attachments/{id}
        app.MapGateway();               // /v1/chat/completions, /v1/completions, /v1/models (bearer tokens only)
        app.MapPrometheusMetrics();     // /metrics (admins, or a personal key with the metrics scope)
        app.MapJobsDashboard();         // /admin/jobs (admins only; last: it needs the jobs' storage, opened meanwhile)
        return app;
    }
}
