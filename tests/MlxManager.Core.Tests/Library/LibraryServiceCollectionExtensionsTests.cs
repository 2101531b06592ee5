using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using MlxManager.Core.Discovery;
using MlxManager.Core.Library;
using MlxManager.Core.Platform;

namespace MlxManager.Core.Tests.Library;

public sealed class LibraryServiceCollectionExtensionsTests
{
    [Fact]
    public void AddModelLibraryAndDiscovery_ResolveConfiguredSingletons()
    {
        using var folder = new TemporaryDirectory();
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["MlxManager:HuggingFace:HubCache"] = folder.Combine("hub"),
            ["MlxManager:Library:ExtraModelFolders:0"] = folder.Combine("extra"),
            ["MlxManager:Library:ChangeCheckInterval"] = "00:00:05",
        }).Build();

        using var services = new ServiceCollection().AddModelLibrary(configuration).AddModelDiscovery().BuildServiceProvider();

        var library = services.GetRequiredService<ModelLibrary>();
        library.ShouldBeSameAs(services.GetRequiredService<ModelLibrary>());
        library.Environment.HubCache.ShouldBe(folder.Combine("hub"));
        services.GetRequiredService<LibraryOptions>().ExtraModelFolders.ShouldBe([folder.Combine("extra")]);
        services.GetRequiredService<LibraryOptions>().ChangeCheckInterval.ShouldBe(TimeSpan.FromSeconds(5));
        library.GetModels().Problems.ShouldBe([$"extra model folder {folder.Combine("extra")} does not exist"]);
        services.GetRequiredService<ModelCharacteristicsDetector>().ShouldNotBeNull();
        services.GetRequiredService<ISystemMemoryProbe>().Read().TotalBytes.ShouldBeGreaterThan(0);
    }
}
