using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using MlxManager.Core.Data;
using MlxManager.Core.Hub;
using MlxManager.Core.Library;
using MlxManager.ModelFixtures;

namespace MlxManager.Web.Tests.Models;

/// <summary>/admin/settings: admins only, antiforgery, validation, the token never shown back, changes applied at once.</summary>
public sealed class SettingsPageTests
{
    private const string Page = "/admin/settings";

    [Fact]
    public async Task Settings_ForOrdinaryUser_AreForbidden()
    {
        await using var host = await ModelsHost.StartAsync();
        using var client = await host.SignInAsync("user@example.com", admin: false);

        var response = await client.GetAsync(Page);

        response.StatusCode.ShouldBe(HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task Settings_ShowTheEffectiveValuesAndTheirSources()
    {
        await using var host = await ModelsHost.StartAsync();
        using var client = await host.SignInAsync("admin@example.com", admin: true);

        var html = WebUtility.HtmlDecode(await client.GetHtmlAsync(Page));

        html.ShouldContain(host.Hub!.BaseUrl);
        html.ShouldContain("configuration MlxManager:HuggingFace:Endpoint");
        html.ShouldContain(host.HubCache);
        html.ShouldContain("mlx-community\nlmstudio-community");
    }

    [Fact]
    public async Task SaveToken_StoresItProtectedAndShowsOnlyAMask()
    {
        await using var host = await ModelsHost.StartAsync();
        using var client = await host.SignInAsync("admin@example.com", admin: true);

        var response = await client.PostFormAsync(Page + "?handler=Token", new Dictionary<string, string> { ["Token"] = ModelsHost.HubToken }, Page);
        var html = WebUtility.HtmlDecode(await response.Content.ReadAsStringAsync());
        var stored = await host.App.WithScopeAsync(services => services.GetRequiredService<AppDbContext>().Settings.AsNoTracking().SingleAsync(s => s.Key == ModelSettingKeys.HubToken));
        var connection = await host.App.Services.GetRequiredService<IHubConnectionSource>().GetAsync();
        var later = await client.GetHtmlAsync(Page);

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        html.ShouldContain("hf_…9876");
        html.ShouldNotContain(ModelsHost.HubToken);
        later.ShouldNotContain(ModelsHost.HubToken);
        stored.Value.ShouldNotContain(ModelsHost.HubToken);
        connection.Token.ShouldBe(ModelsHost.HubToken);
        connection.TokenSource.ShouldBe("stored on the Settings page");
    }

    [Fact]
    public async Task ClearToken_RemovesTheStoredToken()
    {
        await using var host = await ModelsHost.StartAsync();
        using var client = await host.SignInAsync("admin@example.com", admin: true);
        await client.PostFormAsync(Page + "?handler=Token", new Dictionary<string, string> { ["Token"] = ModelsHost.HubToken }, Page);

        var response = await client.PostFormAsync(Page + "?handler=ClearToken", new Dictionary<string, string>(), Page);

        (await response.Content.ReadAsStringAsync()).ShouldContain("Stored token removed.");
        (await host.App.Services.GetRequiredService<IHubConnectionSource>().GetAsync()).Token.ShouldBeNull();
    }

    [Fact]
    public async Task Post_WithoutAntiforgeryToken_IsRejected()
    {
        await using var host = await ModelsHost.StartAsync();
        using var client = await host.SignInAsync("admin@example.com", admin: true);

        var response = await client.Http.PostAsync(Page + "?handler=Token", new FormUrlEncodedContent(new Dictionary<string, string> { ["Token"] = "hf_sneaky" }));

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await host.App.Services.GetRequiredService<IHubConnectionSource>().GetAsync()).Token.ShouldBeNull();
    }

    [Theory]
    [InlineData("mlx-community", "0", "Use a whole number from 1 to 100.")]
    [InlineData("mlx-community", "lots", "Use a whole number from 1 to 100.")]
    [InlineData("not an/author", "20", "is not a Hub user or organisation name")]
    public async Task SaveSearch_WithBadInput_ReRendersWithReasonsAndSavesNothing(string authors, string pageSize, string reason)
    {
        await using var host = await ModelsHost.StartAsync();
        using var client = await host.SignInAsync("admin@example.com", admin: true);

        var response = await client.PostFormAsync(Page + "?handler=Search", new Dictionary<string, string> { ["Authors"] = authors, ["PageSize"] = pageSize }, Page);
        var html = WebUtility.HtmlDecode(await response.Content.ReadAsStringAsync());

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        html.ShouldContain("Nothing was saved");
        html.ShouldContain(reason);
        (await host.App.Services.GetRequiredService<ModelSettingsStore>().GetAsync()).SearchPageSize.ShouldBe(ModelSettings.DefaultPageSize);
    }

    [Fact]
    public async Task SaveSearch_WithNoAuthors_SearchesEveryAuthorAtOnce()
    {
        await using var host = await ModelsHost.StartAsync();
        using var client = await host.SignInAsync("admin@example.com", admin: true);

        await client.PostFormAsync(Page + "?handler=Search", new Dictionary<string, string> { ["Authors"] = "", ["PageSize"] = "50" }, Page);
        var html = await (await ModelsHost.FragmentAsync(client, "/models")).Content.ReadAsStringAsync();

        html.ShouldContain("data-repo=\"acme-research/Frobnicator-7B-4bit\"");
        html.ShouldContain("data-repo=\"meta-llama/Llama-3.2-1B-Instruct-MLX\"");
        host.Hub!.Requests.Entries.Where(r => r.Path == "/api/models").ShouldHaveSingleItem().Query.ShouldNotContain("author=");
    }

    [Fact]
    public async Task SaveFolders_AddsReadOnlyModelsToTheLocalTabAtOnce()
    {
        await using var host = await ModelsHost.StartAsync();
        using var client = await host.SignInAsync("admin@example.com", admin: true);
        var extra = Path.Combine(host.App.DataFolder.Path, "lmstudio");
        RepoWriter.Write(Path.Combine(extra, "mlx-community", "Phi-3.5-mini-instruct-8bit"), FixtureCatalog.Phi8Bit);

        var bad = await client.PostFormAsync(Page + "?handler=Folders", new Dictionary<string, string> { ["Folders"] = "relative/path" }, Page);
        var good = await client.PostFormAsync(Page + "?handler=Folders", new Dictionary<string, string> { ["Folders"] = extra }, Page);
        var local = await ModelsHost.SettledFragmentAsync(client, "/models?tab=local");

        WebUtility.HtmlDecode(await bad.Content.ReadAsStringAsync()).ShouldContain("\"relative/path\" is not an absolute path.");
        (await good.Content.ReadAsStringAsync()).ShouldContain("Extra folders saved");
        local.ShouldContain("data-repo=\"mlx-community/Phi-3.5-mini-instruct-8bit\"");
        local.ShouldContain("read-only");
        local.ShouldNotContain("data-testid=\"delete\"");
    }
}
