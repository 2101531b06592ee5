using MlxManager.Core.Usage.Reports;
using MlxManager.Web.Pages.Usage;

namespace MlxManager.Web.Hosting;

/// <summary>The <c>/usage</c> page's services: reports read from the ledger's daily totals, and what the lanes hold now.</summary>
public static class UsageReportsHosting
{
    public static WebApplicationBuilder AddUsageReports(this WebApplicationBuilder builder)
    {
        builder.Services.AddScoped<UsageReports>();
        builder.Services.AddScoped<UsageNow>();
        return builder;
    }
}
