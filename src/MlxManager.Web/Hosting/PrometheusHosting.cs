using MlxManager.Core.Usage;
using MlxManager.Web.Accounts;
using MlxManager.Web.Metrics;

namespace MlxManager.Web.Hosting;

/// <summary>
/// <c>GET /metrics</c> in the Prometheus text format (prometheus-net), for an active admin's session or a personal API
/// key with the <c>metrics</c> scope (<see cref="AccountPolicies.Metrics"/>): a scraper sends
/// <c>Authorization: Bearer mlxm_…</c>. Outside <c>/api</c>, so the key needs no <c>manage</c> scope.
/// </summary>
public static class PrometheusHosting
{
    public const string Path = "/metrics";

    public static WebApplicationBuilder AddPrometheusMetrics(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<PrometheusMetrics>();
        builder.Services.AddSingleton<IUsageObserver, UsageMetricsObserver>(); // requests and tokens
        return builder;
    }

    public static WebApplication MapPrometheusMetrics(this WebApplication app)
    {
        app.MapGet(Path, async (HttpContext http, PrometheusMetrics metrics) =>
            {
                http.Response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
                http.Response.Headers.CacheControl = "no-store";
                await metrics.ExportAsync(http.Response.Body, http.RequestAborted);
            })
            .RequireAuthorization(AccountPolicies.Metrics)
            .ExcludeFromDescription();
        return app;
    }
}
