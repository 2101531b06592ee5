using System.Net;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using MlxManager.Core.Data;
using MlxManager.Core.Library;
using MlxManager.Core.Profiles;
using MlxManager.HubEmulator;
using MlxManager.ModelFixtures;

namespace MlxManager.Web.Tests.Models;

/// <summary>/models against the HubEmulator and a temp HF cache: lists, filters, URLs, errors, delete.</summary>
public sealed partial class ModelsPageTests
{
    private static readonly FixtureSpec[] Cached = [FixtureCatalog.QwenThinking, FixtureCatalog.GemmaVision, FixtureCatalog.Phi8Bit];

    private static List<string> Tiles(string html) => TilePattern().Matches(html).Select(m => WebUtility.HtmlDecode(m.Groups[1].Value)).ToList();

    [Fact]
    public async Task LocalTab_ListsCachedModelsAndFillsBadgesAfterDetection()
    {
        await using var host = await ModelsHost.StartAsync(Cached);
        using var client = await host.SignInAsync("user@example.com", admin: false);

        var page = await client.GetHtmlAsync("/models?tab=local");
        var settled = await ModelsHost.SettledFragmentAsync(client, "/models?tab=local");

        Tiles(page).ShouldBe(Cached.Select(s => s.RepoId), ignoreOrder: true);
        Tiles(settled).ShouldBe(Cached.Select(s => s.RepoId), ignoreOrder: true);
        settled.ShouldNotContain("detecting…");
        settled.ShouldContain("data-kind=\"Thinking\"");
        settled.ShouldContain("config.json: max_position_embeddings = 40960");
        settled.ShouldContain("data-testid=\"delete-disabled\"", customMessage: "ordinary users see delete as admin-only");
        settled.ShouldNotContain("data-testid=\"delete\"");
    }

    [Theory]
    [InlineData("vision=1", new[] { "mlx-community/gemma-3-4b-it-4bit" })]
    [InlineData("tools=1", new[] { "mlx-community/Qwen3-4B-4bit" })]
    [InlineData("bits=8", new[] { "mlx-community/Phi-3.5-mini-instruct-8bit" })]
    [InlineData("minctx=131072", new[] { "mlx-community/gemma-3-4b-it-4bit", "mlx-community/Phi-3.5-mini-instruct-8bit" })]
    [InlineData("arch=gemma", new[] { "mlx-community/gemma-3-4b-it-4bit" })]
    [InlineData("q=qwen", new[] { "mlx-community/Qwen3-4B-4bit" })]
    [InlineData("fits=1&ctx=4096", new[] { "mlx-community/Qwen3-4B-4bit", "mlx-community/gemma-3-4b-it-4bit", "mlx-community/Phi-3.5-mini-instruct-8bit" })]
    public async Task LocalTab_Filters_KeepOnlyMatchingModels(string filter, string[] expected)
    {
        await using var host = await ModelsHost.StartAsync(Cached);
        using var client = await host.SignInAsync("user@example.com", admin: false);

        var html = await ModelsHost.SettledFragmentAsync(client, "/models?tab=local&" + filter);

        Tiles(html).ShouldBe(expected, ignoreOrder: true);
    }

    [Fact]
    public async Task HubTab_Filters_ApplyToHubResultsAfterDetection()
    {
        await using var host = await ModelsHost.StartAsync();
        using var client = await host.SignInAsync("user@example.com", admin: false);

        var vision = await ModelsHost.SettledFragmentAsync(client, "/models?vision=1");
        var thinking = await ModelsHost.SettledFragmentAsync(client, "/models?thinking=1");

        Tiles(vision).ShouldBe(["mlx-community/gemma-3-4b-it-4bit", "mlx-community/Qwen2.5-VL-3B-Instruct-4bit"], ignoreOrder: true);
        Tiles(thinking).ShouldBe(["mlx-community/Qwen3-4B-4bit", "mlx-community/DeepSeek-R1-Distill-Qwen-1.5B-4bit", "mlx-community/GLM-Z1-9B-0414-4bit"], ignoreOrder: true);
    }

    [Fact]
    public async Task HubTab_SearchesWithOneRequestPerAuthorAndShowsHubFacts()
    {
        await using var host = await ModelsHost.StartAsync();
        using var client = await host.SignInAsync("user@example.com", admin: false);

        var response = await ModelsHost.FragmentAsync(client, "/models?q=qwen&sort=likes");
        var html = await response.Content.ReadAsStringAsync();

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        Tiles(html).ShouldBe(["mlx-community/Qwen3-4B-4bit", "mlx-community/DeepSeek-R1-Distill-Qwen-1.5B-4bit", "mlx-community/Qwen2.5-VL-3B-Instruct-4bit"], "most liked first");
        html.ShouldContain("481K");
        var searches = host.Hub!.Requests.Entries.Where(r => r.Path == "/api/models").ToList();
        searches.Count.ShouldBe(2, "the default authors are mlx-community and lmstudio-community: one request each");
        searches.ShouldAllBe(r => r.Query.Contains("expand=downloads") && r.Query.Contains("sort=likes"));
        host.Hub.Requests.Entries.ShouldNotContain(r => r.Path.StartsWith("/api/models/", StringComparison.Ordinal) && !r.Path.Contains("/tree/"),
            "no model-info call per result");
    }

    [Fact]
    public async Task HubTab_AnyAuthorAndSmallPages_LoadMoreFollowsTheLinkHeader()
    {
        await using var host = await ModelsHost.StartAsync();
        using var client = await host.SignInAsync("admin@example.com", admin: true);
        await host.App.WithScopeAsync(async services =>
        {
            await services.GetRequiredService<ModelSettingsStore>().SaveSearchAsync([], 4, null);
            return true;
        });

        var first = await (await ModelsHost.FragmentAsync(client, "/models")).Content.ReadAsStringAsync();
        var two = await (await ModelsHost.FragmentAsync(client, "/models?pages=2")).Content.ReadAsStringAsync();
        var all = await (await ModelsHost.FragmentAsync(client, "/models?pages=3")).Content.ReadAsStringAsync();

        Tiles(first).Count.ShouldBe(4);
        first.ShouldContain("data-testid=\"load-more\"");
        first.ShouldContain("/models?pages=2");
        Tiles(two).Count.ShouldBe(8);
        Tiles(all).Count.ShouldBe(FixtureCatalog.Small.Count);
        all.ShouldNotContain("data-testid=\"load-more\"");
        all.ShouldContain("data-testid=\"badge-gated\"");
        host.Hub!.Requests.Entries.Count(r => r.Path == "/api/models").ShouldBe(3, "pages come from the cache once fetched");
    }

    [Fact]
    public async Task Fragment_PushesACanonicalUrlAndThePageRestoresTheForm()
    {
        await using var host = await ModelsHost.StartAsync(Cached);
        using var client = await host.SignInAsync("user@example.com", admin: false);

        var response = await ModelsHost.FragmentAsync(client, "/models?tab=local&q=qwen&sort=downloads&arch=&vision=1&bits=&minctx=32768&ctx=32768");
        var page = await client.GetHtmlAsync("/models?tab=local&q=qwen&vision=1&minctx=32768");

        response.Headers.GetValues("HX-Push-Url").Single().ShouldBe("/models?tab=local&q=qwen&vision=1&minctx=32768");
        page.ShouldContain("value=\"qwen\"");
        Regex.IsMatch(page, "name=\"vision\" value=\"1\" checked").ShouldBeTrue();
        Regex.IsMatch(page, "name=\"tab\" value=\"local\" checked").ShouldBeTrue();
        page.ShouldContain("<option value=\"32768\" selected=\"selected\">≥ 32K</option>");
    }

    [Fact]
    public async Task Poll_DoesNotPushAUrl()
    {
        await using var host = await ModelsHost.StartAsync(Cached);
        using var client = await host.SignInAsync("user@example.com", admin: false);

        var response = await ModelsHost.FragmentAsync(client, "/models?tab=local&poll=1");

        response.Headers.Contains("HX-Push-Url").ShouldBeFalse();
    }

    [Fact]
    public async Task HubDown_HubTabSaysSoWithTheEndpointAndLocalTabStillWorks()
    {
        await using var host = await ModelsHost.StartAsync(Cached, hubDown: true);
        using var client = await host.SignInAsync("user@example.com", admin: false);

        var hub = await (await ModelsHost.FragmentAsync(client, "/models")).Content.ReadAsStringAsync();
        var local = await ModelsHost.SettledFragmentAsync(client, "/models?tab=local");

        hub.ShouldContain("data-testid=\"hub-problem\"");
        hub.ShouldContain("could not be reached");
        hub.ShouldContain(host.App.Settings["MlxManager:HuggingFace:Endpoint"]!);
        Tiles(local).Count.ShouldBe(Cached.Length);
    }

    [Fact]
    public async Task Offline_HubTabSaysOfflineAndMakesNoRequest()
    {
        await using var host = await ModelsHost.StartAsync(Cached, offline: true);
        using var client = await host.SignInAsync("user@example.com", admin: false);

        var hub = await (await ModelsHost.FragmentAsync(client, "/models")).Content.ReadAsStringAsync();
        var local = await ModelsHost.SettledFragmentAsync(client, "/models?tab=local");

        hub.ShouldContain("Offline mode");
        hub.ShouldContain("HF_HUB_OFFLINE");
        Tiles(local).Count.ShouldBe(Cached.Length);
        host.Hub!.Requests.Entries.ShouldBeEmpty();
    }

    [Fact]
    public async Task Tile_ShowsHowManyProfilesUseTheModel()
    {
        await using var host = await ModelsHost.StartAsync(Cached);
        using var client = await host.SignInAsync("user@example.com", admin: false);
        await host.App.WithScopeAsync(async services =>
        {
            var db = services.GetRequiredService<AppDbContext>();
            db.Profiles.Add(new Profile { Name = "qwen a", ModelRef = FixtureCatalog.QwenThinking.RepoId, Port = 9001 });
            db.Profiles.Add(new Profile { Name = "qwen b", ModelRef = FixtureCatalog.QwenThinking.RepoId, Port = 9002 });
            return await db.SaveChangesAsync();
        });

        var html = await ModelsHost.SettledFragmentAsync(client, "/models?tab=local&q=qwen");

        html.ShouldContain("Used by 2 profiles");
        html.ShouldContain("/profiles/new?model=mlx-community%2FQwen3-4B-4bit");
    }

    [Fact]
    public async Task Delete_ByOrdinaryUser_IsForbiddenAndKeepsTheModel()
    {
        await using var host = await ModelsHost.StartAsync(Cached);
        using var client = await host.SignInAsync("user@example.com", admin: false);

        var response = await client.HtmxPostAsync("/models?handler=Delete&repoId=" + Uri.EscapeDataString(FixtureCatalog.Phi8Bit.RepoId), "/models?tab=local");

        response.StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        Directory.Exists(Path.Combine(host.HubCache, HfCacheWriter.FolderName(FixtureCatalog.Phi8Bit.RepoId))).ShouldBeTrue();
    }

    [Fact]
    public async Task Delete_WithoutAntiforgeryToken_IsRejected()
    {
        await using var host = await ModelsHost.StartAsync(Cached);
        using var client = await host.SignInAsync("admin@example.com", admin: true);

        var response = await client.HtmxPostAsync("/models?handler=Delete&repoId=" + Uri.EscapeDataString(FixtureCatalog.Phi8Bit.RepoId), "/models?tab=local", withToken: false);

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        Directory.Exists(Path.Combine(host.HubCache, HfCacheWriter.FolderName(FixtureCatalog.Phi8Bit.RepoId))).ShouldBeTrue();
    }

    [Fact]
    public async Task Delete_ByAdmin_RemovesTheRepoAndRefreshesTheList()
    {
        await using var host = await ModelsHost.StartAsync(Cached);
        using var client = await host.SignInAsync("admin@example.com", admin: true);
        var before = await ModelsHost.SettledFragmentAsync(client, "/models?tab=local");

        var response = await client.HtmxPostAsync("/models?handler=Delete&repoId=" + Uri.EscapeDataString(FixtureCatalog.Phi8Bit.RepoId), "/models?tab=local");
        var html = await response.Content.ReadAsStringAsync();

        before.ShouldContain("data-testid=\"delete\"");
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        html.ShouldContain("Deleted mlx-community/Phi-3.5-mini-instruct-8bit");
        Tiles(html).ShouldNotContain(FixtureCatalog.Phi8Bit.RepoId);
        Tiles(html).Count.ShouldBe(Cached.Length - 1);
        Directory.Exists(Path.Combine(host.HubCache, HfCacheWriter.FolderName(FixtureCatalog.Phi8Bit.RepoId))).ShouldBeFalse();
    }

    [Fact]
    public async Task Download_ByAnOrdinaryUser_IsForbiddenAndNothingIsDownloaded()
    {
        await using var host = await ModelsHost.StartAsync();
        using var client = await host.SignInAsync("user@example.com", admin: false);

        var response = await client.HtmxPostAsync("/models?handler=Download&repoId=" + Uri.EscapeDataString(FixtureCatalog.LlamaTools.RepoId), "/models?tab=local");

        response.StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        host.Hub!.Requests.Entries.ShouldNotContain(r => r.Listener == Listeners.Cdn);
    }

    [GeneratedRegex("data-testid=\"model-tile\" data-repo=\"([^\"]+)\"")]
    private static partial Regex TilePattern();
}
