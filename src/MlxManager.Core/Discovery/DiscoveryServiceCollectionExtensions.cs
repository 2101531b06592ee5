using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using MlxManager.Core.Platform;

namespace MlxManager.Core.Discovery;

public static class DiscoveryServiceCollectionExtensions
{
    /// <summary>Registers the <see cref="ModelCharacteristicsDetector"/> and this platform's <see cref="ISystemMemoryProbe"/>.</summary>
    public static IServiceCollection AddModelDiscovery(this IServiceCollection services)
    {
        services.TryAddSingleton(sp => new ModelCharacteristicsDetector(sp.GetService<ILogger<ModelCharacteristicsDetector>>()));
        services.TryAddSingleton(sp => SystemMemoryProbes.ForCurrentPlatform(sp.GetService<ILoggerFactory>()));
        return services;
    }
}
