using MlxManager.Core.Usage;

namespace MlxManager.Web.Hosting;

/// <summary>
/// The usage ledger (settings <c>MlxManager:Usage</c>, see <see cref="UsageOptions"/>): <see cref="UsageLedger"/> takes
/// rows on the request path, <see cref="UsageLedgerWriter"/> writes them in batches. Features that count usage register
/// an <see cref="IUsageObserver"/> (<c>services.AddSingleton&lt;IUsageObserver, MyCounter&gt;()</c>); all are called.
/// <see cref="UsageQuotas"/> is one of them; its limits and today's tokens are loaded before requests are served.
/// <see cref="UsageRetention"/> deletes old rows daily (a Hangfire recurring job, scheduled at start-up).
/// </summary>
public static class UsageHosting
{
    public static WebApplicationBuilder AddUsage(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<UsageOptions>().BindConfiguration(UsageOptions.SectionName)
            .Validate(options => options.RetentionDays >= 1, "MlxManager:Usage:RetentionDays must be at least 1.")
            .ValidateOnStart();
        services.AddSingleton<UsageLedger>();
        services.AddHostedService<UsageLedgerWriter>();
        services.AddSingleton<UsageQuotas>();
        services.AddSingleton<IUsageObserver>(provider => provider.GetRequiredService<UsageQuotas>());
        services.AddHostedService<UsageQuotasStartup>();
        services.AddRecurringJob(UsageRetention.Schedule);
        return builder;
    }
}

/// <summary>Loads quotas and today's tokens at start-up (after the migrations, before Kestrel serves requests).</summary>
public sealed class UsageQuotasStartup(UsageQuotas quotas) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => quotas.LoadAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
