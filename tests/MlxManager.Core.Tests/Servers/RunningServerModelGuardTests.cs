using Microsoft.Extensions.DependencyInjection;
using MlxManager.Core.Engines;
using MlxManager.Core.Library;
using MlxManager.Core.Servers;
using MlxManager.Core.Tests.Servers.Infrastructure;
using MlxManager.ModelFixtures;
using Xunit.Abstractions;

namespace MlxManager.Core.Tests.Servers;

[Collection(ServersCollection.Name)]
public sealed class RunningServerModelGuardTests(EngineWorld world, ITestOutputHelper output)
{
    [Fact]
    public async Task DeleteModel_WhileAServerUsesIt_IsRefused_AndAllowedOnceItStopped()
    {
        // A cache of its own: this test really deletes the model at the end.
        var cache = Directory.CreateTempSubdirectory("mlxm-guard-cache-").FullName;
        HfCacheWriter.Write(cache, FixtureCatalog.Phi8Bit);
        try
        {
            await using var host = await SupervisorHost.StartAsync(world, output, settings: new Dictionary<string, string?>
            {
                ["MlxManager:HuggingFace:HubCache"] = cache,
            });
            var library = host.Services.GetRequiredService<ModelLibrary>();
            var profile = await host.AddProfileAsync("in use", MlxLmServer.EngineKey, FixtureCatalog.Phi8Bit.RepoId);
            await host.Supervisor.StartServerAsync(profile.Id, CancellationToken.None);
            (await host.Supervisor.WaitUntilSettledAsync(profile.Id, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(45)))!.State.ShouldBe(ServerState.Ready);

            var refused = await library.DeleteAsync(FixtureCatalog.Phi8Bit.RepoId);

            refused.Deleted.ShouldBeFalse();
            refused.Message.ShouldBe($"{FixtureCatalog.Phi8Bit.RepoId} is in use by the ready server of the profile \"in use\". Stop that server first.");
            Directory.Exists(Path.Combine(cache, HfCacheWriter.FolderName(FixtureCatalog.Phi8Bit.RepoId))).ShouldBeTrue();

            await host.Supervisor.StopServerAsync(profile.Id, CancellationToken.None);
            library.Invalidate();
            (await library.DeleteAsync(FixtureCatalog.Phi8Bit.RepoId)).Deleted.ShouldBeTrue();
        }
        finally
        {
            // After the host's disposal, which the using declaration in the try block ends first.
            SupervisorHost.DeleteFolder(cache);
        }
    }
}
