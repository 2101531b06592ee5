using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using MlxManager.ModelFixtures;
using MlxManager.Web.Endpoints;
using MlxManager.Web.Tests.Gateway;
using MlxManager.Web.Tests.Infrastructure;
using MlxManager.Web.Tests.Servers.Infrastructure;
using MlxManager.Web.Tests.Ui.Infrastructure;
using MlxManager.Web.Tests.Ui.PageObjects;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace MlxManager.Web.Tests.Ui;

/// <summary>Issue 13 item 9 in Chromium: each server tile says how the server is used through the gateway.</summary>
[Collection(ServersUi.Name)]
[Trait("Category", "UI")]
public sealed class GatewayTileUiTests(ServersUiHostFixture fixture, ITestOutputHelper output) : UiTest(fixture, output)
{
    private const string Password = "a long enough password";

    [Fact]
    public async Task ServersStartedThroughTheGateway_ShowRequests_LastUse_AndWhenTheyUnload()
    {
        await Fixture.App.CreateUserAsync("gateway-ops@example.com", Password, admin: true);
        var llama = await SeedProfiles.AddAsync(Fixture.App, "Gateway Llama", FixtureCatalog.LlamaTools.RepoId, configure: p => p.UnloadAfterIdleMinutes = 30);
        var qwen = await SeedProfiles.AddAsync(Fixture.App, "Pinned Qwen", FixtureCatalog.QwenThinking.RepoId, configure: p => p.KeepLoaded = true);
        using var client = await ClientAsync("gateway-ops@example.com");
        await AskAsync(client, "Gateway Llama");
        await AskAsync(client, "Gateway Llama");
        await AskAsync(client, "Pinned Qwen");
        var page = await NewPageAsync();
        var servers = new ServersPage(page);

        await StepAsync("gateway-lines", page, async () =>
        {
            await new LoginPage(page).SignInAsync("gateway-ops@example.com", Password);
            await page.GotoAsync("/servers");
            await Expect(servers.GatewayLine(llama.Id)).ToHaveTextAsync(new Regex(@"^Gateway: 2 requests · used \d+ (s|min) ago · unloads in \d+ min$"));
            await Expect(servers.GatewayLine(qwen.Id)).ToHaveTextAsync(new Regex(@"^Gateway: 1 request · used \d+ (s|min) ago · kept loaded$"));
        });
    }

    private async Task<HttpClient> ClientAsync(string email)
    {
        var http = new HttpClient { BaseAddress = new Uri(Fixture.BaseUrl), Timeout = TimeSpan.FromMinutes(3) };
        var token = await (await http.PostAsJsonAsync("/api/auth/token", new { email, password = Password }))
            .EnsureSuccessStatusCode().Content.ReadFromJsonAsync<TokenResponse>();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token!.AccessToken);
        return http;
    }

    private static async Task AskAsync(HttpClient client, string model)
    {
        var response = await client.PostAsJsonAsync("/v1/chat/completions", GatewayHost.Chat(model, "Hi [[tokens:2]]"));
        response.StatusCode.ShouldBe(System.Net.HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
    }
}
