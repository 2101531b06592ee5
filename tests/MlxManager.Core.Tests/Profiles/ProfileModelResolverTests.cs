using Microsoft.Extensions.Logging.Abstractions;
using MlxManager.Core.Discovery;
using MlxManager.Core.Library;
using MlxManager.Core.Profiles;
using MlxManager.Core.Tests.Library;
using MlxManager.ModelFixtures;

namespace MlxManager.Core.Tests.Profiles;

public sealed class ProfileModelResolverTests : IDisposable
{
    private readonly TemporaryDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    private ProfileModelResolver Resolver(params string[] extraFolders)
    {
        var environment = HfEnvironment.Resolve(_ => null, _temp.Path) with { HubCache = _temp.Combine("hub") };
        var library = new ModelLibrary(environment, new LibraryOptions { ExtraModelFolders = [.. extraFolders] }, TimeProvider.System);
        return new ProfileModelResolver(library, new SnapshotCharacteristicsCache(new ModelCharacteristicsDetector(), NullLogger<SnapshotCharacteristicsCache>.Instance));
    }

    [Fact]
    public async Task ResolveAsync_ADownloadedVisionModel_GivesItsIdAndFactsFromItsFiles()
    {
        HfCacheWriter.Write(_temp.Combine("hub"), FixtureCatalog.GemmaVision);

        var model = await Resolver().ResolveAsync(FixtureCatalog.GemmaVision.RepoId, CancellationToken.None);

        model.Problem.ShouldBeNull();
        model.Reference.ShouldBe(FixtureCatalog.GemmaVision.RepoId);
        model.Folder.ShouldNotBeNull().ShouldContain("snapshots");
        model.IsMultimodal.ShouldBeTrue();
        model.Resolved.ShouldBe(new MlxManager.Core.Engines.ResolvedModel(FixtureCatalog.GemmaVision.RepoId, true));
        model.Facts.ContextWindow.ShouldBe(131072);
        model.Characteristics!.Badges.ShouldNotBeEmpty();
    }

    [Fact]
    public async Task ResolveAsync_AThinkingModel_SaysItThinks()
    {
        HfCacheWriter.Write(_temp.Combine("hub"), FixtureCatalog.QwenThinking);

        var model = await Resolver().ResolveAsync(FixtureCatalog.QwenThinking.RepoId, CancellationToken.None);

        model.Facts.ShouldBe(new ProfileModelFacts(40960, true, false));
    }

    [Fact]
    public async Task ResolveAsync_AModelThatIsNotDownloaded_SaysSoWithoutThrowing()
    {
        var model = await Resolver().ResolveAsync("mlx-community/Elsewhere-4bit", CancellationToken.None);

        model.Problem.ShouldNotBeNull().ShouldStartWith("mlx-community/Elsewhere-4bit is not downloaded");
        model.Folder.ShouldBeNull();
        model.Characteristics.ShouldBeNull();
    }

    [Fact]
    public async Task ResolveAsync_AFolder_IsServedAsThatFolder()
    {
        var written = RepoWriter.Write(_temp.Combine("plain", "phi"), FixtureCatalog.Phi8Bit);

        var model = await Resolver().ResolveAsync(_temp.Combine("plain", "phi"), CancellationToken.None);

        model.Problem.ShouldBeNull();
        model.Reference.ShouldBe(_temp.Combine("plain", "phi"));
        model.Characteristics.ShouldNotBeNull().ModelType.ShouldBe("phi3");
        written.Files.ShouldNotBeEmpty();
        (await Resolver().ResolveAsync(_temp.Combine("missing"), CancellationToken.None)).Problem.ShouldBe($"The folder {_temp.Combine("missing")} does not exist.");
    }

    [Fact]
    public async Task ResolveAsync_AnExtraFolderModel_GivesTheEngineItsFolder_NotAnIdItCouldNotFind()
    {
        RepoWriter.Write(_temp.Combine("extra", "my-llama"), FixtureCatalog.LlamaTools);
        var resolver = Resolver(_temp.Combine("extra"));

        var model = await resolver.ResolveAsync("my-llama", CancellationToken.None);

        model.Problem.ShouldBeNull();
        model.Local!.Kind.ShouldBe(LibrarySourceKind.ExtraFolder);
        model.Reference.ShouldBe(_temp.Combine("extra", "my-llama"));
        ProfileModelResolver.ReferenceFor(model.Local).ShouldBe(_temp.Combine("extra", "my-llama"));
    }

    [Fact]
    public async Task ResolveAsync_Nothing_AsksToChooseAModel()
    {
        (await Resolver().ResolveAsync("  ", CancellationToken.None)).Problem.ShouldBe("Choose a model: a downloaded one, or a folder that holds one.");
    }
}
