using System.Diagnostics;
using Microsoft.Extensions.Time.Testing;
using MlxManager.Core.Discovery;
using MlxManager.Core.Library;
using Xunit.Abstractions;
using static MlxManager.Core.Tests.Library.HfCacheBuilder;

namespace MlxManager.Core.Tests.Library;

public sealed class ModelLibraryTests(ITestOutputHelper output) : IDisposable
{
    private readonly TemporaryDirectory _temp = new();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));

    public void Dispose() => _temp.Dispose();

    private string CacheRoot => _temp.Combine("hub");

    private HfCacheBuilder Cache() => new(CacheRoot);

    private ModelLibrary Library(LibraryOptions? options = null, IRepoManifestStore? manifests = null, IEnumerable<IModelDeletionGuard>? guards = null)
    {
        var environment = HfEnvironment.Resolve(_ => null, _temp.Path) with { HubCache = CacheRoot };
        return new ModelLibrary(environment, options ?? new LibraryOptions(), _time, manifests: manifests, guards: guards);
    }

    private static long ModelBytes(int variant = 0) => ModelFiles(variant).Sum(f => (long)f.Content.Length);

    [Fact]
    public void GetModels_SymlinkedSnapshot_IsCompleteWithRevisionFromRefsMain()
    {
        Cache().Repo("mlx-community/Qwen3-4B-4bit").LinkModel(Commit1).Main(Commit1);

        var snapshot = Library().GetModels();

        var model = snapshot.Models.ShouldHaveSingleItem();
        model.RepoId.ShouldBe("mlx-community/Qwen3-4B-4bit");
        model.Kind.ShouldBe(LibrarySourceKind.HubCache);
        model.ReadOnly.ShouldBeFalse();
        model.Revision.ShouldBe(Commit1);
        model.RevisionSource.ShouldBe("refs/main");
        model.Refs.ShouldBe(["main"]);
        model.SnapshotPath.ShouldBe(Path.Combine(CacheRoot, "models--mlx-community--Qwen3-4B-4bit", "snapshots", Commit1));
        model.Completeness.ShouldBe(ModelCompleteness.Complete);
        model.CompletenessReason.ShouldContain("all 2 weight files model.safetensors.index.json names present");
        model.FileCount.ShouldBe(5);
        model.SizeOnDisk.ShouldBe(ModelBytes());
        model.SnapshotBytes.ShouldBe(ModelBytes());
        model.PartialBytes.ShouldBe(0);
        snapshot.HubCacheExists.ShouldBeTrue();
        snapshot.Problems.ShouldBeEmpty();
    }

    [Fact]
    public async Task GetModels_SnapshotPath_FeedsDetection()
    {
        Cache().Repo("org/model").LinkModel(Commit1).Main(Commit1);
        var model = Library().GetModels().Models.Single();

        var characteristics = await new ModelCharacteristicsDetector().DetectAsync(new FolderModelFileSource(model.SnapshotPath!, model.RepoId));

        characteristics.Context!.Tokens.ShouldBe(4096);
        characteristics.Parameters!.Value.ShouldBe((64L * 32) + 32);
        characteristics.WeightBytes!.Value.ShouldBe(ModelFiles().Where(f => f.Path.EndsWith(".safetensors", StringComparison.Ordinal)).Sum(f => (long)f.Content.Length));
    }

    [Fact]
    public void GetModels_NameContainingDoubleDash_SplitsOnlyOnTheFirstSeparator()
    {
        Directory.CreateDirectory(Path.Combine(CacheRoot, "models--org--name--with--dashes", "snapshots", Commit1));
        new RepoBuilder(Path.Combine(CacheRoot, "models--org--name--with--dashes"), CacheRoot, "org/name--with--dashes").LinkModel(Commit1).Main(Commit1);
        Directory.CreateDirectory(Path.Combine(CacheRoot, "models--gpt2", "snapshots"));
        Directory.CreateDirectory(Path.Combine(CacheRoot, "datasets--org--data"));
        Directory.CreateDirectory(Path.Combine(CacheRoot, ".locks"));

        var ids = Library().GetModels().Models.Select(m => m.RepoId).ToList();

        ids.ShouldBe(["gpt2", "org/name--with--dashes"]);
    }

    [Fact]
    public void GetModels_MissingShardWithPartialBlob_IsPartialDownload()
    {
        var shard2 = ModelFiles().Single(f => f.Path == "model-00002-of-00002.safetensors").Content;
        Cache().Repo("org/model")
            .LinkModel(Commit1, only: p => p != "model-00002-of-00002.safetensors")
            .Partial(shard2, written: 10)
            .Main(Commit1);

        var model = Library().GetModels().Models.Single();

        model.Completeness.ShouldBe(ModelCompleteness.PartialDownload);
        model.CompletenessReason.ShouldContain("1 of 2 weight files model.safetensors.index.json names are missing: model-00002-of-00002.safetensors");
        model.CompletenessReason.ShouldContain("1 partial blob");
        model.PartialBytes.ShouldBe(10);
        model.SizeOnDisk.ShouldBe(ModelBytes() - shard2.Length + 10);
    }

    [Fact]
    public void GetModels_MissingShardWithoutPartialBlob_IsIncomplete()
    {
        Cache().Repo("org/model").LinkModel(Commit1, only: p => p != "model-00001-of-00002.safetensors").Main(Commit1);

        Library().GetModels().Models.Single().Completeness.ShouldBe(ModelCompleteness.Incomplete);
    }

    [Fact]
    public void GetModels_TruncatedShard_IsIncomplete()
    {
        var repo = Cache().Repo("org/model").LinkModel(Commit1, only: p => p != "model-00001-of-00002.safetensors").Main(Commit1);
        var shard1 = ModelFiles().Single(f => f.Path == "model-00001-of-00002.safetensors").Content;
        repo.Link(Commit1, "model-00001-of-00002.safetensors", shard1[..(shard1.Length - 100)]);

        var model = Library().GetModels().Models.Single();

        model.Completeness.ShouldBe(ModelCompleteness.Incomplete);
        model.CompletenessReason.ShouldContain($"model-00001-of-00002.safetensors ({shard1.Length - 100} of {shard1.Length} bytes)");
    }

    [Fact]
    public void GetModels_DanglingSymlink_IsIncomplete()
    {
        var repo = Cache().Repo("org/model").LinkModel(Commit1).Main(Commit1);
        var blob = Directory.GetFiles(Path.Combine(repo.Folder, "blobs")).First();
        File.Delete(blob);

        var model = Library().GetModels().Models.Single();

        model.Completeness.ShouldBe(ModelCompleteness.Incomplete);
        model.CompletenessReason.ShouldContain("links to a missing blob");
    }

    [Fact]
    public void GetModels_CopiedSnapshot_IsCompleteAndCountsTheCopies()
    {
        Cache().Repo("org/copied").CopyModel(Commit1).Main(Commit1);

        var model = Library().GetModels().Models.Single();

        model.Completeness.ShouldBe(ModelCompleteness.Complete);
        model.SizeOnDisk.ShouldBe(ModelBytes());
        model.SnapshotBytes.ShouldBe(ModelBytes());
    }

    [Fact]
    public void GetModels_TwoSnapshotsSharingBlobs_CountEachBlobOnce()
    {
        // Commit2 changes only config.json (variant keeps the shards' shapes but the config differs).
        var repo = Cache().Repo("org/model").LinkModel(Commit1);
        repo.LinkModel(Commit2, only: p => p != "config.json").Link(Commit2, "config.json", "{\"model_type\": \"llama\", \"v\": 2}"u8.ToArray()).Main(Commit2);

        var model = Library().GetModels().Models.Single();

        model.SnapshotCount.ShouldBe(2);
        model.Revision.ShouldBe(Commit2);
        var blobs = Directory.GetFiles(Path.Combine(repo.Folder, "blobs")).Sum(f => new FileInfo(f).Length);
        blobs.ShouldBe(ModelBytes() + "{\"model_type\": \"llama\", \"v\": 2}"u8.Length);
        model.SizeOnDisk.ShouldBe(blobs);
    }

    [Fact]
    public void GetModels_TwoNamesLinkingOneBlob_CountSnapshotBytesOnce()
    {
        var weights = ModelFiles().Single(f => f.Path == "model-00001-of-00002.safetensors").Content;
        Cache().Repo("org/model").LinkModel(Commit1).Link(Commit1, "original/model-00001-of-00002.safetensors", weights).Main(Commit1);

        var model = Library().GetModels().Models.Single();

        model.FileCount.ShouldBe(6);
        model.SnapshotBytes.ShouldBe(ModelBytes());
        model.Completeness.ShouldBe(ModelCompleteness.Complete);
    }

    [Fact]
    public void GetModels_WithRecordedTree_IsCompleteOnlyWhenEveryFileIsThereAtItsSize()
    {
        var repo = Cache().Repo("org/model").LinkModel(Commit1).Main(Commit1);
        var store = new FileRepoManifestStore(_temp.Combine("manifests"));
        var files = ModelFiles().Select(f => new RepoManifestFile(f.Path, f.Content.Length)).Append(new RepoManifestFile("README.md", 5)).ToList();
        store.Save(new RepoManifest("org/model", Commit1, files));
        var library = Library(manifests: store);

        var before = library.GetModels().Models.Single();
        repo.Link(Commit1, "README.md", "hello"u8.ToArray());
        library.Invalidate();
        var after = library.GetModels().Models.Single();

        before.Completeness.ShouldBe(ModelCompleteness.Incomplete);
        before.CompletenessReason.ShouldBe($"1 of 6 files of commit {Commit1[..12]} missing or of the wrong size: README.md");
        after.Completeness.ShouldBe(ModelCompleteness.Complete);
        after.CompletenessReason.ShouldBe($"all 6 files of commit {Commit1[..12]} present at their recorded sizes");
    }

    [Fact]
    public void GetModels_UnreadableRecordedTree_IsAProblem_AndTheModelIsJudgedWithoutIt()
    {
        Cache().Repo("org/model").LinkModel(Commit1).Main(Commit1);
        var manifests = _temp.Combine("manifests");
        _temp.WriteText($"manifests/models--org--model/{Commit1}.json", "{broken");

        var snapshot = Library(manifests: new FileRepoManifestStore(manifests)).GetModels();

        snapshot.Models.Single().Completeness.ShouldBe(ModelCompleteness.Complete);
        snapshot.Problems.ShouldHaveSingleItem().ShouldStartWith("org/model: recorded file list unreadable");
    }

    [Fact]
    public void GetModels_RefsMainWithoutItsSnapshot_IsIncomplete()
    {
        Cache().Repo("org/model").LinkModel(Commit1).Main(Commit2);

        var model = Library().GetModels().Models.Single();

        model.Completeness.ShouldBe(ModelCompleteness.Incomplete);
        model.CompletenessReason.ShouldContain("refs/main points to 222222222222");
        model.SnapshotPath.ShouldBeNull();
    }

    [Fact]
    public void GetModels_NoRefsMain_UsesTheOnlySnapshot()
    {
        Cache().Repo("org/model").LinkModel(Commit1);

        var model = Library().GetModels().Models.Single();

        model.Revision.ShouldBe(Commit1);
        model.RevisionSource.ShouldBe("the only snapshot (no refs/main)");
        model.Completeness.ShouldBe(ModelCompleteness.Complete);
    }

    [Fact]
    public void GetModels_NoHubCacheFolder_IsEmptyNotAnError()
    {
        var snapshot = Library().GetModels();

        snapshot.Models.ShouldBeEmpty();
        snapshot.HubCacheExists.ShouldBeFalse();
        snapshot.Problems.ShouldBeEmpty();
    }

    [Fact]
    public void GetModels_WithinTheCheckInterval_DoesNotTouchTheDisk()
    {
        Cache().Repo("org/a").LinkModel(Commit1).Main(Commit1);
        var library = Library();
        library.GetModels();
        Cache().Repo("org/b").LinkModel(Commit1).Main(Commit1);

        var cached = library.GetModels();
        _time.Advance(TimeSpan.FromSeconds(3));
        var checkedAgain = library.GetModels();

        cached.Statistics.FromCache.ShouldBeTrue();
        cached.Models.Count.ShouldBe(1);
        checkedAgain.Statistics.FromCache.ShouldBeFalse();
        checkedAgain.Models.Count.ShouldBe(2);
        checkedAgain.Statistics.ModelsExamined.ShouldBe(1);
        checkedAgain.Statistics.ModelsReused.ShouldBe(1);
    }

    [Fact]
    public void GetModels_AfterOneRepoChanges_RereadsOnlyThatRepo()
    {
        var a = Cache().Repo("org/a").LinkModel(Commit1, only: p => p != "model-00002-of-00002.safetensors").Main(Commit1);
        Cache().Repo("org/b").LinkModel(Commit1).Main(Commit1);
        var library = Library();
        library.GetModels().Models.Single(m => m.RepoId == "org/a").Completeness.ShouldBe(ModelCompleteness.Incomplete);

        // File-system timestamps are coarse (a few ms on Linux): let the clock move past the last write first.
        var snapshotFolder = Path.Combine(a.Folder, "snapshots", Commit1);
        SpinWait.SpinUntil(() => DateTime.UtcNow - Directory.GetLastWriteTimeUtc(snapshotFolder) > TimeSpan.FromMilliseconds(20), TimeSpan.FromSeconds(5)).ShouldBeTrue();
        a.Link(Commit1, "model-00002-of-00002.safetensors", ModelFiles().Single(f => f.Path == "model-00002-of-00002.safetensors").Content);
        _time.Advance(TimeSpan.FromSeconds(3));
        var snapshot = library.GetModels();

        snapshot.Statistics.ModelsExamined.ShouldBe(1);
        snapshot.Statistics.ModelsReused.ShouldBe(1);
        snapshot.Models.Single(m => m.RepoId == "org/a").Completeness.ShouldBe(ModelCompleteness.Complete);
    }

    [Fact]
    public void Invalidate_RereadsEverything()
    {
        Cache().Repo("org/a").LinkModel(Commit1).Main(Commit1);
        Cache().Repo("org/b").LinkModel(Commit1).Main(Commit1);
        var library = Library();
        library.GetModels();

        library.Invalidate();
        var snapshot = library.GetModels();

        snapshot.Statistics.ModelsExamined.ShouldBe(2);
        snapshot.Statistics.ModelsReused.ShouldBe(0);
    }

    [Fact]
    public void GetModels_ExtraFolders_PlainModelsOrgLayoutAndAnotherCache_AreReadOnly()
    {
        var plain = _temp.Combine("extra", "plain-model");
        foreach (var (path, content) in ModelFiles())
        {
            Directory.CreateDirectory(plain);
            File.WriteAllBytes(Path.Combine(plain, path), content);
        }

        var lmStudio = _temp.Combine("lmstudio");
        Directory.CreateDirectory(Path.Combine(lmStudio, "mlx-community", "Llama-3.2-1B"));
        File.WriteAllText(Path.Combine(lmStudio, "mlx-community", "Llama-3.2-1B", "config.json"), "{}");
        new HfCacheBuilder(_temp.Combine("other-cache")).Repo("org/shared").LinkModel(Commit1).Main(Commit1);
        var options = new LibraryOptions { ExtraModelFolders = [_temp.Combine("extra"), lmStudio, _temp.Combine("other-cache"), _temp.Combine("missing")] };

        var snapshot = Library(options).GetModels();

        snapshot.Models.Select(m => (m.RepoId, m.Kind, m.ReadOnly)).ShouldBe(
        [
            ("mlx-community/Llama-3.2-1B", LibrarySourceKind.ExtraFolder, true),
            ("org/shared", LibrarySourceKind.ExtraFolder, true),
            ("plain-model", LibrarySourceKind.ExtraFolder, true),
        ]);
        snapshot.Models.Single(m => m.RepoId == "plain-model").Completeness.ShouldBe(ModelCompleteness.Complete);
        snapshot.Models.Single(m => m.RepoId == "mlx-community/Llama-3.2-1B").Completeness.ShouldBe(ModelCompleteness.Incomplete);
        snapshot.Problems.ShouldBe([$"extra model folder {_temp.Combine("missing")} does not exist"]);
    }

    [Fact]
    public async Task DeleteAsync_RemovesRepoFolderAndLocks_NotFilesOutsideTheCache()
    {
        var outside = _temp.WriteText("outside/keep.txt", "precious");
        var repo = Cache().Repo("org/model").LinkModel(Commit1).Main(Commit1).Lock();
        File.CreateSymbolicLink(Path.Combine(repo.Folder, "snapshots", Commit1, "extra.txt"), outside);
        Cache().Repo("org/other").LinkModel(Commit1).Main(Commit1);
        var library = Library();
        var size = library.Find("org/model")!.SizeOnDisk;

        var result = await library.DeleteAsync("org/model");

        result.Deleted.ShouldBeTrue();
        result.BytesFreed.ShouldBe(size);
        result.Message.ShouldStartWith("Deleted org/model");
        Directory.Exists(repo.Folder).ShouldBeFalse();
        Directory.Exists(Path.Combine(CacheRoot, ".locks", "models--org--model")).ShouldBeFalse();
        File.ReadAllText(outside).ShouldBe("precious");
        library.GetModels().Models.Select(m => m.RepoId).ShouldBe(["org/other"]);
    }

    [Fact]
    public async Task DeleteAsync_WhenARegisteredGuardRefuses_KeepsTheFiles()
    {
        var repo = Cache().Repo("org/model").LinkModel(Commit1).Main(Commit1);
        var library = Library(guards: [new RunningServerGuard("org/model")]);

        var result = await library.DeleteAsync("org/model");

        result.Deleted.ShouldBeFalse();
        result.Message.ShouldBe("server \"my-profile\" is running org/model");
        Directory.Exists(repo.Folder).ShouldBeTrue();
    }

    [Fact]
    public async Task DeleteAsync_WhenTheCallersGuardRefuses_KeepsTheFiles()
    {
        var repo = Cache().Repo("org/model").LinkModel(Commit1).Main(Commit1);

        var result = await Library().DeleteAsync("org/model", (model, _) => ValueTask.FromResult<string?>($"{model.RepoId} is in use"));

        result.Deleted.ShouldBeFalse();
        result.Message.ShouldBe("org/model is in use");
        Directory.Exists(repo.Folder).ShouldBeTrue();
    }

    [Fact]
    public async Task DeleteAsync_ReadOnlyOrUnknownModels_AreRefused()
    {
        var plain = _temp.Combine("extra", "plain");
        Directory.CreateDirectory(plain);
        File.WriteAllText(Path.Combine(plain, "config.json"), "{}");
        var library = Library(new LibraryOptions { ExtraModelFolders = [_temp.Combine("extra")] });

        var readOnly = await library.DeleteAsync("plain");
        var unknown = await library.DeleteAsync("org/nothing");

        readOnly.Deleted.ShouldBeFalse();
        readOnly.Message.ShouldContain("read-only folder");
        Directory.Exists(plain).ShouldBeTrue();
        unknown.Deleted.ShouldBeFalse();
        unknown.Message.ShouldBe("org/nothing is not in the library");
    }

    [Fact]
    public void GetModels_FiveHundredRepos_RescanIsIncrementalAndCheap()
    {
        for (var i = 0; i < 500; i++)
        {
            Cache().Repo($"org/model-{i:000}").LinkModel(Commit1, only: p => p is "config.json" or "model-00002-of-00002.safetensors").Main(Commit1);
        }

        var library = Library();
        var watch = Stopwatch.StartNew();
        var first = library.GetModels();
        var firstMs = watch.Elapsed.TotalMilliseconds;
        _time.Advance(TimeSpan.FromSeconds(3));
        watch.Restart();
        var second = library.GetModels();
        var secondMs = watch.Elapsed.TotalMilliseconds;
        watch.Restart();
        var third = library.GetModels();
        var thirdMs = watch.Elapsed.TotalMilliseconds;
        output.WriteLine($"500 repos: first scan {firstMs:0.0} ms, fingerprint check {secondMs:0.0} ms, cached {thirdMs:0.000} ms");

        first.Models.Count.ShouldBe(500);
        first.Statistics.ModelsExamined.ShouldBe(500);
        second.Statistics.ModelsExamined.ShouldBe(0);
        second.Statistics.ModelsReused.ShouldBe(500);
        third.Statistics.FromCache.ShouldBeTrue();
        first.Models.ShouldAllBe(m => m.Completeness == ModelCompleteness.Complete);
    }

    private sealed class RunningServerGuard(string busyRepo) : IModelDeletionGuard
    {
        public ValueTask<string?> GetRefusalAsync(LocalModel model, CancellationToken cancellationToken) =>
            ValueTask.FromResult(model.RepoId == busyRepo ? $"server \"my-profile\" is running {model.RepoId}" : null);
    }
}
