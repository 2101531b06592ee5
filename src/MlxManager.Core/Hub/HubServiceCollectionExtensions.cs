using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace MlxManager.Core.Hub;

public static class HubServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="HubClientOptions"/> (section <c>MlxManager:Hub</c>) and the typed <see cref="HubClient"/>:
    /// <see cref="HubResilience"/>'s pipeline, one per host (the Hub and the CDN break their circuits apart), over
    /// <see cref="HubBodyReader"/> and <see cref="HubClient.CreatePrimaryHandler"/>. Needs an <see cref="IHubConnectionSource"/>.
    /// </summary>
    public static IServiceCollection AddHubClient(this IServiceCollection services)
    {
        services.AddOptions<HubClientOptions>().BindConfiguration(HubClientOptions.SectionName);
        services.AddSingleton(provider => provider.GetRequiredService<IOptions<HubClientOptions>>().Value);
        services.AddHttpClient<HubClient>(client => client.Timeout = Timeout.InfiniteTimeSpan)
            .ConfigurePrimaryHttpMessageHandler(HubClient.CreatePrimaryHandler)
            .AddResilienceHandler(HubResilience.PipelineName, (pipeline, context) => HubResilience.Configure(
                pipeline,
                context.ServiceProvider.GetRequiredService<HubClientOptions>(),
                context.ServiceProvider.GetService<TimeProvider>(),
                context.ServiceProvider.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(HubResilience))))
            .SelectPipelineByAuthority();
        services.AddHttpClient<HubClient>().AddHttpMessageHandler(() => new HubBodyReader());
        return services;
    }
}
