using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

namespace MlxManager.Core.Library;

public static class LibraryServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="HfEnvironment"/> (from the process environment, then the optional configuration
    /// section <c>MlxManager:HuggingFace</c>: <c>HubCache</c>, <c>Endpoint</c>, <c>TokenPath</c>, <c>Offline</c>),
    /// <see cref="LibraryOptions"/> (section <c>MlxManager:Library</c>) and the <see cref="ModelLibrary"/> singleton.
    /// Register an <see cref="IRepoManifestStore"/> and <see cref="IModelDeletionGuard"/>s to refine it.
    /// </summary>
    public static IServiceCollection AddModelLibrary(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(_ => ApplyOverrides(HfEnvironment.FromProcess(), configuration.GetSection("MlxManager:HuggingFace")));
        services.TryAddSingleton<IRepoManifestStore>(NoRepoManifests.Instance);
        services.TryAddSingleton(_ => configuration.GetSection(LibraryOptions.SectionName).Get<LibraryOptions>() ?? new LibraryOptions());
        services.TryAddSingleton(sp => new ModelLibrary(
            sp.GetRequiredService<HfEnvironment>(),
            sp.GetRequiredService<LibraryOptions>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetService<ILogger<ModelLibrary>>(),
            sp.GetRequiredService<IRepoManifestStore>(),
            sp.GetServices<IModelDeletionGuard>()));
        return services;
    }

    /// <summary>Applies configuration values over the environment-resolved settings (unset keys change nothing).</summary>
    public static HfEnvironment ApplyOverrides(HfEnvironment environment, IConfiguration section)
    {
        ArgumentNullException.ThrowIfNull(environment);
        ArgumentNullException.ThrowIfNull(section);
        string? Value(string key) => section[key] is { Length: > 0 } value ? value : null;
        return environment with
        {
            HubCache = Value("HubCache") ?? environment.HubCache,
            Endpoint = Value("Endpoint")?.TrimEnd('/') ?? environment.Endpoint,
            TokenPath = Value("TokenPath") ?? environment.TokenPath,
            Offline = bool.TryParse(Value("Offline"), out var offline) ? offline : environment.Offline,
        };
    }
}
