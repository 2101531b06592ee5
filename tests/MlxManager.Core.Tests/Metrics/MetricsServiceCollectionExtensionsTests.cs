using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using MlxManager.Core.Engines;
using MlxManager.Core.Metrics;
using MlxManager.Core.Profiles;

namespace MlxManager.Core.Tests.Metrics;

public class MetricsServiceCollectionExtensionsTests
{
    [Fact]
    public void AddMetricsAndEngines_ResolveOneSamplerThatIsAlsoTheHostedService()
    {
        var configuration = new ConfigurationBuilder().Build();
        using var provider = new ServiceCollection()
            .AddLogging()
            .AddMetrics(configuration)
            .AddEngines(configuration)
            .BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });

        var sampler = provider.GetRequiredService<MetricsSampler>();

        provider.GetServices<IHostedService>().ShouldHaveSingleItem().ShouldBeSameAs(sampler);
        provider.GetRequiredService<IProcessTable>().IsSupported.ShouldBe(OperatingSystem.IsLinux() || OperatingSystem.IsMacOS());
        provider.GetRequiredService<EngineRegistry>().All.Count.ShouldBe(3);
        provider.GetRequiredService<EngineCommandBuilder>().ShouldNotBeNull();
        provider.GetRequiredService<ProfileValidator>().ShouldNotBeNull();
    }
}
