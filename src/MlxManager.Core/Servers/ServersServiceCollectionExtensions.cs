using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MlxManager.Core.Discovery;
using MlxManager.Core.Engines;
using MlxManager.Core.Library;
using MlxManager.Core.Metrics;
using MlxManager.Core.Profiles;
using MlxManager.Core.Servers.Processes;

namespace MlxManager.Core.Servers;

/// <summary>Registers the server supervisor and what it needs.</summary>
public static class ServersServiceCollectionExtensions
{
    /// <summary>
    /// Adds engines, metrics, the model library and discovery (each once), <see cref="ServerOptions"/> bound to
    /// <c>MlxManager:Servers</c>, <see cref="ProfileModelResolver"/> with the in-memory
    /// <see cref="SnapshotCharacteristicsCache"/> (unless another <see cref="ILocalModelCharacteristics"/> is registered
    /// first), the probe HttpClient, the supervisor's parts, and <see cref="ServerSupervisor"/> as a singleton that is
    /// also a hosted service and the <see cref="IServerDirectory"/>, then <see cref="ServerAutoStart"/>, plus the
    /// <see cref="IModelDeletionGuard"/> that protects served models.
    /// Needs <see cref="Data.AppDbContext"/> and <see cref="Data.DataDirectory"/> from the host. Register after the
    /// database's start-up service, so that migrations have run when re-attaching.
    /// </summary>
    public static IServiceCollection AddServers(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        if (!services.Any(d => d.ServiceType == typeof(EngineRegistry)))
        {
            services.AddEngines(configuration);
        }

        if (!services.Any(d => d.ServiceType == typeof(MetricsSampler)))
        {
            services.AddMetrics(configuration);
        }

        services.AddModelLibrary(configuration);
        services.AddModelDiscovery();
        services.AddOptions<ServerOptions>().BindConfiguration(ServerOptions.SectionName);
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<ILocalModelCharacteristics, SnapshotCharacteristicsCache>();
        services.TryAddSingleton<ProfileModelResolver>();
        services.TryAddSingleton<PortProbe>();
        services.TryAddSingleton<ReadinessChecker>();
        services.AddHttpClient(ReadinessChecker.HttpClientName)
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler
            {
                UseProxy = false, // engines listen on this machine; a proxy from the environment must not sit between
                ConnectTimeout = TimeSpan.FromSeconds(2),
                AutomaticDecompression = DecompressionMethods.None,
                PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30),
            })
            .ConfigureHttpClient(client => client.Timeout = Timeout.InfiniteTimeSpan); // each probe sets its own deadline
        // A probe every quarter second while a model loads would flood the log at the factory's Information level.
        services.Configure<LoggerFilterOptions>(options => options.AddFilter("System.Net.Http.HttpClient." + ReadinessChecker.HttpClientName, LogLevel.Warning));
        services.TryAddSingleton<ServerEvents>();
        services.TryAddSingleton<CurrentRuns>();
        services.TryAddSingleton<SupervisorWork>();
        services.TryAddSingleton<RunStore>();
        services.TryAddSingleton<ProcessTreeSignals>();
        services.TryAddSingleton<RunTransitions>();
        services.TryAddSingleton<ReadinessProber>();
        services.TryAddSingleton<RunWatcher>();
        services.TryAddSingleton<LaunchPlanner>();
        services.TryAddSingleton<ServerLauncher>();
        services.TryAddSingleton<ServerReattacher>();
        services.TryAddSingleton(sp => new ServerSupervisor(
            sp.GetRequiredService<CurrentRuns>(),
            sp.GetRequiredService<ServerEvents>(),
            sp.GetRequiredService<RunStore>(),
            sp.GetRequiredService<ServerLauncher>(),
            sp.GetRequiredService<LaunchPlanner>(),
            sp.GetRequiredService<RunTransitions>(),
            sp.GetRequiredService<RunWatcher>(),
            sp.GetRequiredService<ServerReattacher>(),
            sp.GetRequiredService<SupervisorWork>(),
            sp.GetRequiredService<IOptions<ServerOptions>>()));
        services.TryAddSingleton<IServerDirectory>(sp => sp.GetRequiredService<ServerSupervisor>());
        services.AddHostedService(sp => sp.GetRequiredService<ServerSupervisor>());
        services.AddHostedService<ServerAutoStart>(); // after the supervisor: starts once re-attaching is done

        services.AddSingleton<IModelDeletionGuard, RunningServerModelGuard>();
        return services;
    }
}
