using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using MlxManager.Core.Engines.Compatibility;
using MlxManager.Core.Profiles;

namespace MlxManager.Core.Engines;

/// <summary>Registers engine definitions, executable lookup, command building and profile validation.</summary>
public static class EngineServiceCollectionExtensions
{
    /// <summary>
    /// Adds <see cref="EngineRegistry"/> (every engine in this assembly), <see cref="EngineExecutableLocator"/>
    /// bound to <c>MlxManager:Engines:&lt;key&gt;:Path</c>, <see cref="EngineCommandBuilder"/> and
    /// <see cref="ProfileValidator"/>, plus the model compatibility lists and installed engines (versions), all singletons.
    /// </summary>
    public static IServiceCollection AddEngines(this IServiceCollection services, IConfiguration configuration)
    {
        services.Configure<EngineOptions>(configuration.GetSection(EngineOptions.SectionName));
        services.AddSingleton(_ => EngineRegistry.Discover());
        services.AddSingleton<EngineExecutableLocator>();
        services.AddSingleton<EngineCommandBuilder>();
        services.AddSingleton<ProfileValidator>();
        services.AddSingleton(EngineCompatibility.Shipped);
        services.AddSingleton<EngineVersionReader>();
        services.AddSingleton<InstalledEngines>();
        return services;
    }
}
