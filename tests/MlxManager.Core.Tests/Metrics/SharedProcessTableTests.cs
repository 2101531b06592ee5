using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using MlxManager.Core.Metrics;

namespace MlxManager.Core.Tests.Metrics;

public sealed class SharedProcessTableTests
{
    [Fact]
    public void TheContainer_HasOneProcessTable_SharedAndSynchronised()
    {
        var services = new ServiceCollection().AddLogging().AddMetrics(new ConfigurationBuilder().Build());
        using var provider = services.BuildServiceProvider();

        provider.GetRequiredService<IProcessTable>().ShouldBeOfType<SharedProcessTable>();
        provider.GetRequiredService<IProcessTable>().ShouldBeSameAs(provider.GetRequiredService<IProcessTable>());
    }

    [LinuxFact]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public async Task RefreshAndCollect_FromSeveralThreadsAtOnce_AlwaysFindTheWholeTree()
    {
        var table = new SharedProcessTable(new LinuxProcessTable());
        var self = table.Identify(Environment.ProcessId)!.Value;

        var found = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() =>
        {
            var tree = new List<ProcessUsage>();
            var all = true;
            for (var i = 0; i < 50; i++)
            {
                table.Refresh();
                all &= table.TryCollectTree(self, tree) && tree[0].Identity == self;
            }

            return all;
        })));

        found.ShouldAllBe(f => f);
    }
}
