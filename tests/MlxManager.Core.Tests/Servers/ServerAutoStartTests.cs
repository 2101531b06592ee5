using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using MlxManager.Core.Engines;
using MlxManager.Core.Servers;
using MlxManager.Core.Tests.Servers.Infrastructure;
using MlxManager.ModelFixtures;
using Xunit.Abstractions;

namespace MlxManager.Core.Tests.Servers;

[Collection(ServersCollection.Name)]
public sealed class ServerAutoStartTests(EngineWorld world, ITestOutputHelper output)
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task ManagerStart_StartsTheProfilesMarkedAutoStart_UnlessAutoStartIsOff(bool autoStart)
    {
        var folder = Directory.CreateTempSubdirectory("mlxm-autostart-").FullName;
        try
        {
            int marked, unmarked;
            // The first manager only writes the profiles: with auto-start on, it could pick up "marked" meanwhile.
            var off = new Dictionary<string, string?> { ["MlxManager:Servers:AutoStart"] = "false" };
            await using (var first = await SupervisorHost.StartAsync(world, output, folder, settings: off))
            {
                marked = (await first.AddProfileAsync("marked", MlxLmServer.EngineKey, FixtureCatalog.QwenThinking.RepoId, configure: p => p.AutoStart = true)).Id;
                unmarked = (await first.AddProfileAsync("unmarked", MlxLmServer.EngineKey, FixtureCatalog.QwenThinking.RepoId)).Id;
            }

            var settings = new Dictionary<string, string?> { ["MlxManager:Servers:AutoStart"] = autoStart ? "true" : "false" };
            await using var second = await SupervisorHost.StartAsync(world, output, folder, settings: settings);
            var autoStarter = second.Services.GetServices<IHostedService>().OfType<ServerAutoStart>().ShouldHaveSingleItem();
            await autoStarter.ExecuteTask!.WaitAsync(TimeSpan.FromSeconds(30));

            second.Supervisor.Find(unmarked).ShouldBeNull();
            if (autoStart)
            {
                second.Supervisor.Find(marked).ShouldNotBeNull().IsActive.ShouldBeTrue();
            }
            else
            {
                second.Supervisor.Find(marked).ShouldBeNull();
            }
        }
        finally
        {
            SupervisorHost.DeleteFolder(folder);
        }
    }
}
