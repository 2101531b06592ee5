using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace MlxManager.Core.Metrics;

/// <summary>Registers the platform's process table, memory and GPU probes, and the one background sampler.</summary>
public static class MetricsServiceCollectionExtensions
{
    /// <summary>
    /// Adds the platform's <see cref="IProcessTable"/> (one, shared by the sampler and the supervisor: <see cref="SharedProcessTable"/>), <see cref="ISystemMemoryProbe"/> and <see cref="IGpuProbe"/>,
    /// <see cref="MetricsOptions"/> bound to <c>MlxManager:Metrics</c>, and <see cref="MetricsSampler"/> as a
    /// singleton that is also the hosted service (so pages and the supervisor get the running instance).
    /// A <see cref="TimeProvider"/> is added when none is registered.
    /// </summary>
    public static IServiceCollection AddMetrics(this IServiceCollection services, IConfiguration configuration)
    {
        services.Configure<MetricsOptions>(configuration.GetSection(MetricsOptions.SectionName));
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<IProcessTable>(_ => new SharedProcessTable(ProcessTable.ForCurrentPlatform()));
        services.TryAddSingleton(_ => SystemMemoryProbe.ForCurrentPlatform());
        services.TryAddSingleton(sp => GpuProbe.ForCurrentPlatform(
            sp.GetRequiredService<ILoggerFactory>(),
            sp.GetRequiredService<IOptions<MetricsOptions>>().Value.GpuProbeTimeout));
        services.AddSingleton<MetricsSampler>();
        services.AddHostedService(sp => sp.GetRequiredService<MetricsSampler>());
        return services;
    }
}
