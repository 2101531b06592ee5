using System.Net;
using System.Text.Json.Nodes;
using MlxManager.HubEmulator;
using MlxManager.ModelFixtures;

namespace MlxManager.Tools.Tests.HubEmulator;

/// <summary><c>GET /api/models/{id}</c>, <c>/revision/{rev}</c> and <c>/tree/{rev}</c> as hf-hub.md describes them.</summary>
public sealed class ModelApiInfoTests : IClassFixture<HubEmulatorFixture>
{
    readonly HubEmulatorFixture hub;
    readonly HttpClient client;

    public ModelApiInfoTests(HubEmulatorFixture hub)
    {
        this.hub = hub;
        client = hub.Client;
        hub.Reset();
    }

    string Api(string path) => $"{hub.Host.BaseUrl}/api/models/{path}";

    [Fact]
    public async Task Info_ReturnsCommitFilesWeightsAndConfig()
    {
        var repo = hub.Repo(FixtureCatalog.GemmaVision);

        var (response, info) = await client.GetJsonAsync(Api(repo.Spec.RepoId));

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        info["id"]!.GetValue<string>().ShouldBe(repo.Spec.RepoId);
        info["author"]!.GetValue<string>().ShouldBe("mlx-community");
        info["sha"]!.GetValue<string>().ShouldBe(repo.Commit);
        info["siblings"]!.AsArray().Select(s => s!["rfilename"]!.GetValue<string>()).ShouldBe(repo.Files.Select(f => f.Path), ignoreOrder: true);
        info["siblings"]![0]!.Keys().ShouldBe(["rfilename"]);
        info["safetensors"]!["total"]!.GetValue<long>().ShouldBeGreaterThan(0);
        info["usedStorage"]!.GetValue<long>().ShouldBe(repo.Files.Sum(f => f.Size));
        info["gated"]!.GetValue<bool>().ShouldBeFalse();
        info["pipeline_tag"]!.GetValue<string>().ShouldBe("image-text-to-text");
        info["library_name"]!.GetValue<string>().ShouldBe("mlx");
        info["tags"]!.AsArray().Select(t => t!.GetValue<string>()).ShouldContain("vision");
        info["config"]!["model_type"]!.GetValue<string>().ShouldBe("gemma3");
        info["config"]!["quantization_config"]!["group_size"]!.GetValue<int>().ShouldBe(64);
    }

    [Fact]
    public async Task Info_OfGatedRepo_IsPublicAndSaysHowItIsGated()
    {
        var (response, info) = await client.GetJsonAsync(Api(FixtureCatalog.Gated.RepoId));

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        info["gated"]!.GetValue<string>().ShouldBe("manual");
    }

    [Fact]
    public async Task Info_WithBlobs_AddsSizesBlobIdsAndLfs()
    {
        var repo = hub.Repo(FixtureCatalog.LlamaTools);

        var (_, info) = await client.GetJsonAsync(Api(repo.Spec.RepoId) + "?blobs=true");

        foreach (var sibling in info["siblings"]!.AsArray().Select(s => s!))
        {
            var file = repo.Files.Single(f => f.Path == sibling["rfilename"]!.GetValue<string>());
            sibling["size"]!.GetValue<long>().ShouldBe(file.Size);
            sibling["blobId"]!.GetValue<string>().ShouldMatch("^[0-9a-f]{40}$");
            if (file.IsLfs)
            {
                sibling["lfs"]!["sha256"]!.GetValue<string>().ShouldBe(file.Etag);
                sibling["lfs"]!["size"]!.GetValue<long>().ShouldBe(file.Size);
                sibling["lfs"]!["pointerSize"]!.GetValue<int>().ShouldBeInRange(100, 200);
            }
            else
            {
                sibling.AsObject().ContainsKey("lfs").ShouldBeFalse();
                sibling["blobId"]!.GetValue<string>().ShouldBe(file.Etag);
            }
        }
    }

    [Fact]
    public async Task Info_WithExpand_ReturnsOnlyTheAskedFields()
    {
        var (_, info) = await client.GetJsonAsync(Api(FixtureCatalog.LlamaTools.RepoId) + "?expand=sha&expand=usedStorage");

        info.Keys().ShouldBe(["_id", "id", "sha", "usedStorage"], ignoreOrder: true);
    }

    [Fact]
    public async Task Info_AtMainOrTheCommit_AnswersTheSameSha()
    {
        var repo = hub.Repo(FixtureCatalog.LlamaTools);

        var (atMain, main) = await client.GetJsonAsync(Api(repo.Spec.RepoId) + "/revision/main");
        var (atCommit, commit) = await client.GetJsonAsync(Api(repo.Spec.RepoId) + "/revision/" + repo.Commit);

        atMain.StatusCode.ShouldBe(HttpStatusCode.OK);
        atCommit.StatusCode.ShouldBe(HttpStatusCode.OK);
        main["sha"]!.GetValue<string>().ShouldBe(repo.Commit);
        commit["sha"]!.GetValue<string>().ShouldBe(repo.Commit);
    }

    [Theory]
    [InlineData("HEAD")]
    [InlineData("refs%2Fheads%2Fmain")]
    public async Task Info_AtTheDefaultBranchByOtherNames_Succeeds(string revision)
    {
        var repo = hub.Repo(FixtureCatalog.LlamaTools);

        var (response, info) = await client.GetJsonAsync(Api(repo.Spec.RepoId) + "/revision/" + revision);

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        info["sha"]!.GetValue<string>().ShouldBe(repo.Commit);
    }

    [Fact]
    public async Task Info_UnknownRevision_IsRevisionNotFound()
    {
        var response = await client.SendAsync(HttpMethod.Get, Api(FixtureCatalog.LlamaTools.RepoId) + "/revision/" + Uri.EscapeDataString("refs/pr/1"));

        response.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        response.Header("X-Error-Code").ShouldBe("RevisionNotFound");
    }

    [Fact]
    public async Task Info_MissingRepo_IsRepoNotFound_401AnonymouslyAnd404SignedIn()
    {
        var anonymous = await client.SendAsync(HttpMethod.Get, Api("mlx-community/No-Such-Model"));
        var signedIn = await client.SendAsync(HttpMethod.Get, Api("mlx-community/No-Such-Model"), HubEmulatorFixture.Token);

        anonymous.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        anonymous.Header("X-Error-Code").ShouldBe("RepoNotFound");
        JsonNode.Parse(await anonymous.Content.ReadAsStringAsync())!["error"]!.GetValue<string>().ShouldBe("Repository not found");
        signedIn.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        signedIn.Header("X-Error-Code").ShouldBe("RepoNotFound");
    }

    [Fact]
    public async Task Tree_Recursive_ListsEveryFileWithLfsForWeights()
    {
        var repo = hub.Repo(FixtureCatalog.QwenThinking);

        var items = (await client.GetAllPagesAsync(Api(repo.Spec.RepoId) + "/tree/main?recursive=true")).SelectMany(p => p).Select(i => i!).ToList();

        items.Select(i => i["path"]!.GetValue<string>()).ShouldBe(repo.Files.Select(f => f.Path), ignoreOrder: true);
        foreach (var item in items)
        {
            var file = repo.Files.Single(f => f.Path == item["path"]!.GetValue<string>());
            item["type"]!.GetValue<string>().ShouldBe("file");
            item["size"]!.GetValue<long>().ShouldBe(file.Size);
            item["oid"]!.GetValue<string>().ShouldMatch("^[0-9a-f]{40}$");
            if (file.IsLfs)
            {
                item["lfs"]!["oid"]!.GetValue<string>().ShouldBe(file.Etag);
                item["lfs"]!["size"]!.GetValue<long>().ShouldBe(file.Size);
                item["lfs"]!["pointerSize"]!.GetValue<int>().ShouldBeGreaterThan(0);
                item["oid"]!.GetValue<string>().ShouldNotBe(file.Etag);
            }
            else
            {
                item.AsObject().ContainsKey("lfs").ShouldBeFalse();
                item["oid"]!.GetValue<string>().ShouldBe(file.Etag);
            }
        }
        items.Where(i => i.AsObject().ContainsKey("lfs")).Select(i => i["path"]!.GetValue<string>()).ShouldBe(["model.safetensors"]);
    }

    [Fact]
    public async Task Tree_WithExpand_AddsTheLastCommit()
    {
        var repo = hub.Repo(FixtureCatalog.QwenThinking);

        var items = (await client.GetAllPagesAsync(Api(repo.Spec.RepoId) + "/tree/main?recursive=True&expand=True")).SelectMany(p => p).Select(i => i!).ToList();

        items.ShouldNotBeEmpty();
        items.ShouldAllBe(i => i["lastCommit"]!["id"]!.GetValue<string>() == repo.Commit);
    }

    [Fact]
    public async Task PathsInfo_AsJson_DescribesTheExistingPathsOnly()
    {
        var repo = hub.Repo(FixtureCatalog.QwenThinking);
        var weights = repo.Files.Single(f => f.Path == "model.safetensors");
        var body = new StringContent("""{ "paths": ["model.safetensors", "config.json", "missing.bin"], "expand": true }""", System.Text.Encoding.UTF8, "application/json");

        var response = await client.PostAsync(Api(repo.Spec.RepoId) + "/paths-info/main", body);
        var items = JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsArray().Select(i => i!).ToList();

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        items.Select(i => i["path"]!.GetValue<string>()).ShouldBe(["model.safetensors", "config.json"]);
        items[0]["lfs"]!["oid"]!.GetValue<string>().ShouldBe(weights.Etag);
        items[0]["size"]!.GetValue<long>().ShouldBe(weights.Size);
        items[1]["oid"]!.GetValue<string>().ShouldBe(repo.Files.Single(f => f.Path == "config.json").Etag);
        items.ShouldAllBe(i => i["lastCommit"]!["id"]!.GetValue<string>() == repo.Commit);
    }

    [Fact]
    public async Task PathsInfo_AsForm_WorksLikeHuggingfaceHubSendsIt()
    {
        var repo = hub.Repo(FixtureCatalog.QwenThinking);
        var form = new FormUrlEncodedContent([new("paths", "config.json"), new("paths", "tokenizer_config.json"), new("expand", "False")]);

        var response = await client.PostAsync(Api(repo.Spec.RepoId) + "/paths-info/" + repo.Commit, form);
        var items = JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsArray().Select(i => i!).ToList();

        items.Select(i => i["path"]!.GetValue<string>()).ShouldBe(["config.json", "tokenizer_config.json"]);
        items.ShouldAllBe(i => !i.AsObject().ContainsKey("lastCommit"));
    }

    [Fact]
    public async Task Tree_WithSmallPages_FollowsLinkToTheEndWithoutDuplicates()
    {
        var repo = hub.Repo(FixtureCatalog.GemmaVision);
        await using var paged = await hub.StartAnotherAsync(o => o with { TreePageSize = 3 });

        var pages = await client.GetAllPagesAsync($"{paged.BaseUrl}/api/models/{repo.Spec.RepoId}/tree/main?recursive=true");

        pages.Count.ShouldBe((repo.Files.Count + 2) / 3);
        pages.Take(pages.Count - 1).ShouldAllBe(p => p.Count == 3);
        var paths = pages.SelectMany(p => p).Select(i => i!["path"]!.GetValue<string>()).ToList();
        paths.ShouldBeUnique();
        paths.ShouldBe(repo.Files.Select(f => f.Path), ignoreOrder: true);
    }

    [Fact]
    public async Task Tree_OfRepoWithFolders_ShowsDirectoriesUnlessRecursive()
    {
        var root = Directory.CreateTempSubdirectory("hubemu-folders-").FullName;
        try
        {
            var spec = FixtureCatalog.Phi8Bit with { RepoId = "tests/With-Folders" };
            var folder = Path.Combine(root, "tests", "With-Folders");
            RepoWriter.Write(folder, spec);
            Directory.CreateDirectory(Path.Combine(folder, "onnx", "fp16"));
            File.WriteAllText(Path.Combine(folder, "onnx", "fp16", "notes.txt"), "hello");
            await using var host = await HubEmulatorHost.StartAsync(new HubEmulatorOptions { Root = root });
            var tree = $"{host.BaseUrl}/api/models/tests/With-Folders/tree/main";

            var top = (await client.GetAllPagesAsync(tree)).SelectMany(p => p).Select(i => i!).ToList();
            var inOnnx = (await client.GetAllPagesAsync(tree + "/onnx")).SelectMany(p => p).Select(i => i!).ToList();
            // huggingface_hub quotes the folder with safe="", slashes included.
            var inFp16 = (await client.GetAllPagesAsync(tree + "/onnx%2Ffp16")).SelectMany(p => p).Select(i => i!).ToList();
            var all = (await client.GetAllPagesAsync(tree + "?recursive=true")).SelectMany(p => p).Select(i => i!).ToList();

            top.Where(i => i["type"]!.GetValue<string>() == "directory").Select(i => i["path"]!.GetValue<string>()).ShouldBe(["onnx"]);
            top.ShouldNotContain(i => i["path"]!.GetValue<string>().Contains('/'));
            inOnnx.Select(i => (i["type"]!.GetValue<string>(), i["path"]!.GetValue<string>())).ShouldBe([("directory", "onnx/fp16")]);
            inFp16.Select(i => (i["type"]!.GetValue<string>(), i["path"]!.GetValue<string>(), i["size"]!.GetValue<long>())).ShouldBe([("file", "onnx/fp16/notes.txt", 5L)]);
            all.Select(i => i["path"]!.GetValue<string>()).ShouldContain("onnx/fp16/notes.txt");
            all.Where(i => i["type"]!.GetValue<string>() == "directory").Select(i => i["path"]!.GetValue<string>()).ShouldBe(["onnx", "onnx/fp16"], ignoreOrder: true);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public async Task Tree_UnknownRevision_IsRevisionNotFound()
    {
        var response = await client.SendAsync(HttpMethod.Get, Api(FixtureCatalog.LlamaTools.RepoId) + "/tree/v9?recursive=true");

        response.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        response.Header("X-Error-Code").ShouldBe("RevisionNotFound");
    }

    [Fact]
    public async Task Repo_WithoutSidecar_IsServedWithDefaultFacts()
    {
        var root = Directory.CreateTempSubdirectory("hubemu-plain-").FullName;
        try
        {
            var written = RepoWriter.Write(Path.Combine(root, "someone", "Plain-Model"), FixtureCatalog.Phi8Bit with { RepoId = "someone/Plain-Model" });
            await using var host = await HubEmulatorHost.StartAsync(new HubEmulatorOptions { Root = root });

            var (_, info) = await client.GetJsonAsync($"{host.BaseUrl}/api/models/someone/Plain-Model");
            var (_, found) = await client.GetJsonAsync($"{host.BaseUrl}/api/models?search=plain");

            info["sha"]!.GetValue<string>().ShouldBe(written.Commit);
            info["downloads"]!.GetValue<long>().ShouldBe(0);
            info["gated"]!.GetValue<bool>().ShouldBeFalse();
            info["library_name"]!.GetValue<string>().ShouldBe(new HubFacts().LibraryName);
            found.AsArray().Ids().ShouldBe(["someone/Plain-Model"]);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public async Task Repo_ChangedOnDisk_GetsANewCommitAndTheOldOneIsGone()
    {
        var root = Directory.CreateTempSubdirectory("hubemu-change-").FullName;
        try
        {
            var spec = FixtureCatalog.Phi8Bit with { RepoId = "someone/Changing" };
            var before = HubRootWriter.Write(root, spec);
            await using var host = await HubEmulatorHost.StartAsync(new HubEmulatorOptions { Root = root });
            (await client.GetJsonAsync($"{host.BaseUrl}/api/models/someone/Changing")).Body["sha"]!.GetValue<string>().ShouldBe(before.Commit);

            File.AppendAllText(Path.Combine(before.Folder, "README.md"), "\nA new paragraph.\n");
            var after = RepoWriter.Describe(before.Folder, spec);

            (await client.GetJsonAsync($"{host.BaseUrl}/api/models/someone/Changing")).Body["sha"]!.GetValue<string>().ShouldBe(after.Commit);
            after.Commit.ShouldNotBe(before.Commit);
            (await client.SendAsync(HttpMethod.Get, $"{host.BaseUrl}/api/models/someone/Changing/revision/{before.Commit}")).StatusCode.ShouldBe(HttpStatusCode.NotFound);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
