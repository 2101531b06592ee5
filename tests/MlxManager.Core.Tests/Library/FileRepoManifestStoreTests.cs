using MlxManager.Core.Library;

namespace MlxManager.Core.Tests.Library;

public sealed class FileRepoManifestStoreTests
{
    [Fact]
    public void Save_ThenFind_RoundTrips()
    {
        using var folder = new TemporaryDirectory();
        var store = new FileRepoManifestStore(folder.Path);
        var manifest = new RepoManifest("org/model", HfCacheBuilder.Commit1, [new RepoManifestFile("config.json", 12), new RepoManifestFile("sub/a.bin", 3)]);

        store.Save(manifest);
        var found = store.Find("org/model", HfCacheBuilder.Commit1)!;

        found.Files.ShouldBe(manifest.Files);
        File.Exists(Path.Combine(folder.Path, "models--org--model", HfCacheBuilder.Commit1 + ".json")).ShouldBeTrue();
        store.Find("org/model", HfCacheBuilder.Commit2).ShouldBeNull();
    }

    [Fact]
    public void Find_WithPathTricks_FindsNothing()
    {
        using var folder = new TemporaryDirectory();

        new FileRepoManifestStore(folder.Path).Find("org/model", "../../etc/passwd").ShouldBeNull();
    }

    [Fact]
    public void Find_CorruptManifest_FailsWithItsPath()
    {
        using var folder = new TemporaryDirectory();
        folder.WriteText($"models--org--model/{HfCacheBuilder.Commit1}.json", "{oops");

        Should.Throw<InvalidDataException>(() => new FileRepoManifestStore(folder.Path).Find("org/model", HfCacheBuilder.Commit1)).Message.ShouldContain("is not valid");
    }
}
