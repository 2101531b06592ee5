using System.Net;
using System.Text.Json.Nodes;
using MlxManager.ModelFixtures;

namespace MlxManager.Tools.Tests.HubEmulator;

/// <summary><c>GET /api/models</c>: the search parameters, sorting, paging and <c>expand</c> of hf-hub.md.</summary>
public sealed class ModelApiSearchTests : IClassFixture<HubEmulatorFixture>
{
    readonly HubEmulatorFixture hub;
    readonly HttpClient client;

    public ModelApiSearchTests(HubEmulatorFixture hub)
    {
        this.hub = hub;
        client = hub.Client;
        hub.Reset();
    }

    string Url(string query) => $"{hub.Host.BaseUrl}/api/models?{query}";

    async Task<JsonArray> SearchAsync(string query)
    {
        var (response, body) = await client.GetJsonAsync(Url(query));
        response.StatusCode.ShouldBe(HttpStatusCode.OK, body.ToJsonString());
        return body.AsArray();
    }

    [Fact]
    public async Task Search_MatchesSubstringOfIdIgnoringCase()
    {
        var ids = (await SearchAsync("search=QWEN")).Ids();

        ids.ShouldBe(FixtureCatalog.Small.Where(s => s.RepoId.Contains("qwen", StringComparison.OrdinalIgnoreCase)).Select(s => s.RepoId), ignoreOrder: true);
        ids.Count.ShouldBe(3);
    }

    [Fact]
    public async Task Search_ByAuthor_ReturnsOnlyThatOrganisation()
    {
        (await SearchAsync("author=acme-research")).Ids().ShouldBe([FixtureCatalog.Unsupported.RepoId]);
        (await SearchAsync("author=mlx-community")).Ids().ShouldAllBe(id => id.StartsWith("mlx-community/"));
    }

    [Fact]
    public async Task Search_WithRepeatedFilters_RequiresEveryTag()
    {
        (await SearchAsync("filter=mlx&filter=8-bit")).Ids().ShouldBe([FixtureCatalog.Phi8Bit.RepoId]);
        (await SearchAsync("filter=mlx")).Count.ShouldBe(FixtureCatalog.Small.Count);
        (await SearchAsync("filter=gguf")).Count.ShouldBe(0);
    }

    [Fact]
    public async Task Search_ByPipelineTag_ReturnsOnlyThatTask()
    {
        (await SearchAsync("pipeline_tag=image-text-to-text")).Ids()
            .ShouldBe([FixtureCatalog.GemmaVision.RepoId, FixtureCatalog.QwenVision.RepoId], ignoreOrder: true);
    }

    [Fact]
    public async Task Search_CombinesParameters()
    {
        (await SearchAsync("search=qwen&author=mlx-community&filter=mlx&pipeline_tag=text-generation")).Ids()
            .ShouldBe([FixtureCatalog.QwenThinking.RepoId, FixtureCatalog.DeepSeekR1.RepoId], ignoreOrder: true);
    }

    public static TheoryData<string> SortKeys => ["downloads", "likes", "lastModified", "createdAt", "trendingScore"];

    [Theory]
    [MemberData(nameof(SortKeys))]
    public async Task Search_EachSort_OrdersDescending(string sort)
    {
        Func<HubFacts, IComparable> key = sort switch
        {
            "downloads" => f => f.Downloads,
            "likes" => f => f.Likes,
            "lastModified" => f => f.LastModified,
            "createdAt" => f => f.CreatedAt,
            _ => f => f.TrendingScore,
        };

        var ids = (await SearchAsync($"sort={sort}&direction=-1")).Ids();

        var facts = ids.Select(id => key(FixtureCatalog.Find(id)!.Hub)).ToList();
        facts.Count.ShouldBe(FixtureCatalog.Small.Count);
        for (int i = 1; i < facts.Count; i++)
            facts[i].CompareTo(facts[i - 1]).ShouldBeLessThanOrEqualTo(0, $"{sort}: {ids[i]} after {ids[i - 1]}");
        ids[0].ShouldBe(FixtureCatalog.Small.MaxBy(s => key(s.Hub))!.RepoId);
    }

    [Fact]
    public async Task Search_UnknownSort_IsBadRequest()
    {
        var response = await client.SendAsync(HttpMethod.Get, Url("sort=popularity"));
        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await response.Content.ReadAsStringAsync()).ShouldContain("\"error\"");
    }

    [Fact]
    public async Task Search_WithLimit_ReturnsThatManyAndLinksToTheNextPage()
    {
        var (response, body) = await client.GetJsonAsync(Url("sort=downloads&limit=2"));

        body.AsArray().Count.ShouldBe(2);
        var next = response.NextLink();
        next.ShouldNotBeNull();
        next.ShouldStartWith(hub.Host.BaseUrl + "/api/models?");
        next.ShouldContain("sort=downloads");
        next.ShouldContain("limit=2");
    }

    [Fact]
    public async Task Search_FollowingLinkToTheEnd_GivesEveryModelOnceInOrder()
    {
        var pages = await client.GetAllPagesAsync(Url("filter=mlx&sort=downloads&limit=2&expand=downloads"));

        pages.Count.ShouldBe(5);
        pages.Take(4).ShouldAllBe(p => p.Count == 2);
        var ids = pages.SelectMany(p => p.Ids()).ToList();
        ids.ShouldBeUnique();
        ids.ShouldBe(FixtureCatalog.Small.OrderByDescending(s => s.Hub.Downloads).Select(s => s.RepoId));
        pages.SelectMany(p => p).ShouldAllBe(item => item!.Keys().SetEquals(new[] { "_id", "id", "downloads" }));
    }

    [Fact]
    public async Task Search_LastPage_HasNoLink()
    {
        var (response, body) = await client.GetJsonAsync(Url("limit=100"));

        body.AsArray().Count.ShouldBe(FixtureCatalog.Small.Count);
        response.NextLink().ShouldBeNull();
    }

    [Fact]
    public async Task Search_LimitAboveTheMaximum_IsClamped()
    {
        await using var clamped = await hub.StartAnotherAsync(o => o with { MaxSearchLimit = 3 });

        var (response, body) = await client.GetJsonAsync($"{clamped.BaseUrl}/api/models?limit=1000");

        body.AsArray().Count.ShouldBe(3);
        response.NextLink().ShouldNotBeNull();
    }

    [Fact]
    public async Task Search_WithoutExpand_ReturnsTheDefaultFieldsOnly()
    {
        var items = await SearchAsync("search=Qwen3-4B");

        var item = items.Single()!;
        item.Keys().ShouldBe(["_id", "id", "likes", "trendingScore", "private", "downloads", "tags", "pipeline_tag", "library_name", "createdAt", "modelId"], ignoreOrder: true);
        item["id"]!.GetValue<string>().ShouldBe(FixtureCatalog.QwenThinking.RepoId);
        item["modelId"]!.GetValue<string>().ShouldBe(FixtureCatalog.QwenThinking.RepoId);
        item["_id"]!.GetValue<string>().ShouldMatch("^[0-9a-f]{24}$");
        item["downloads"]!.GetValue<long>().ShouldBe(FixtureCatalog.QwenThinking.Hub.Downloads);
        item["likes"]!.GetValue<long>().ShouldBe(FixtureCatalog.QwenThinking.Hub.Likes);
        item["private"]!.GetValue<bool>().ShouldBeFalse();
        item["tags"]!.AsArray().Select(t => t!.GetValue<string>()).ShouldBe(FixtureCatalog.QwenThinking.Hub.Tags);
        item["pipeline_tag"]!.GetValue<string>().ShouldBe("text-generation");
        item["library_name"]!.GetValue<string>().ShouldBe("mlx");
        DateTimeOffset.Parse(item["createdAt"]!.GetValue<string>()).ShouldBe(FixtureCatalog.QwenThinking.Hub.CreatedAt);
    }

    [Fact]
    public async Task Search_WithExpand_ReturnsExactlyTheAskedFieldsWithRealValues()
    {
        var items = await SearchAsync("filter=mlx&expand=sha&expand=siblings&expand=safetensors&expand=usedStorage&expand=config&expand=gated&expand=lastModified&expand=library_name");

        items.Count.ShouldBe(FixtureCatalog.Small.Count);
        foreach (var item in items.Select(i => i!))
        {
            var repo = hub.Repos[item["id"]!.GetValue<string>()];
            item.Keys().ShouldBe(["_id", "id", "sha", "siblings", "safetensors", "usedStorage", "config", "gated", "lastModified", "library_name"], ignoreOrder: true);
            item["sha"]!.GetValue<string>().ShouldBe(repo.Commit);
            item["sha"]!.GetValue<string>().ShouldBe(GitObjects.CommitId(repo.Files.Select(f => (f.Path, f.Etag))));
            item["siblings"]!.AsArray().Select(s => s!["rfilename"]!.GetValue<string>()).ShouldBe(repo.Files.Select(f => f.Path), ignoreOrder: true);
            item["usedStorage"]!.GetValue<long>().ShouldBe(repo.Files.Sum(f => f.Size));
            item["safetensors"]!["total"]!.GetValue<long>().ShouldBe(ParameterCount(repo));
            item["safetensors"]!["parameters"]!.AsObject().Sum(p => p.Value!.GetValue<long>()).ShouldBe(ParameterCount(repo));
            item["config"]!["model_type"]!.GetValue<string>().ShouldBe(repo.Spec.ModelType);
            item["config"]!["architectures"]![0]!.GetValue<string>().ShouldBe(repo.Spec.Architecture);
            item["config"]!["quantization_config"]!["bits"]!.GetValue<int>().ShouldBe(repo.Spec.Bits!.Value);
            DateTimeOffset.Parse(item["lastModified"]!.GetValue<string>()).ShouldBe(repo.Spec.Hub.LastModified);
            if (repo.Spec.Hub.Gated == "false") item["gated"]!.GetValue<bool>().ShouldBeFalse();
            else item["gated"]!.GetValue<string>().ShouldBe(repo.Spec.Hub.Gated);
        }
    }

    [Fact]
    public async Task Search_ExpandedSafetensors_CountParametersPerDtype()
    {
        var item = (await SearchAsync("search=Qwen3-4B&expand=safetensors")).Single()!;

        var parameters = item["safetensors"]!["parameters"]!.AsObject().ToDictionary(p => p.Key, p => p.Value!.GetValue<long>());
        parameters.Keys.ShouldBe(["BF16", "U32"], ignoreOrder: true);
        parameters["U32"].ShouldBeGreaterThan(0);
    }

    [Fact]
    public async Task Search_ExpandedConfig_CarriesTheChatTemplateWhereverTheRepoKeepsIt()
    {
        var items = await SearchAsync("filter=mlx&expand=config");
        JsonNode Config(FixtureSpec spec) => items.Single(i => i!["id"]!.GetValue<string>() == spec.RepoId)!["config"]!;

        Config(FixtureCatalog.QwenThinking)["tokenizer_config"]!["chat_template"]!.GetValue<string>().ShouldContain("enable_thinking");
        Config(FixtureCatalog.QwenVision)["chat_template_jinja"]!.GetValue<string>().ShouldContain("tools");
        Config(FixtureCatalog.GemmaVision)["processor_config"]!["chat_template"]!.GetValue<string>().ShouldContain("start_of_image");
        Config(FixtureCatalog.GemmaVision).AsObject().ContainsKey("text_config").ShouldBeFalse("the Hub exposes a subset of config.json");
    }

    [Fact]
    public async Task Search_ExpandCombinedWithFull_IsBadRequest()
    {
        var response = await client.SendAsync(HttpMethod.Get, Url("expand=sha&full=true"));

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Search_UnknownExpandValue_IsBadRequest()
    {
        (await client.SendAsync(HttpMethod.Get, Url("expand=weights"))).StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await client.SendAsync(HttpMethod.Get, Url("expand[]=weights"))).StatusCode.ShouldBe(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Search_WithFull_AddsShaAndSiblings()
    {
        var item = (await SearchAsync("search=Phi-3.5&full=true")).Single()!;

        item["sha"]!.GetValue<string>().ShouldBe(hub.Repo(FixtureCatalog.Phi8Bit).Commit);
        item["siblings"]!.AsArray().Count.ShouldBe(hub.Repo(FixtureCatalog.Phi8Bit).Files.Count);
    }

    [Fact]
    public async Task Search_WithExpand_IsOneRequestNotOnePerResult()
    {
        var pages = await client.GetAllPagesAsync(Url("filter=mlx&expand=safetensors&expand=usedStorage&limit=50"));

        pages.Single().Count.ShouldBe(FixtureCatalog.Small.Count);
        var searches = await hub.Host.Requests.WaitForCountAsync(r => r.Path.StartsWith("/api/models"), 1);
        searches.Count.ShouldBe(1);
        hub.Host.Requests.Entries.ShouldAllBe(r => r.Path == "/api/models");
    }

    static long ParameterCount(WrittenRepo repo) =>
        repo.Files.Where(f => f.Path.EndsWith(".safetensors")).Sum(f =>
        {
            using var header = SafetensorsWriter.ReadHeader(Path.Combine(repo.Folder, f.Path));
            return header.RootElement.EnumerateObject().Where(t => t.Name != "__metadata__")
                .Sum(t => t.Value.GetProperty("shape").EnumerateArray().Aggregate(1L, (a, d) => a * d.GetInt64()));
        });
}
