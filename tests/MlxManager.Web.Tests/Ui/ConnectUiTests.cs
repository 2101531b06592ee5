using System.Text.RegularExpressions;
using Microsoft.Playwright;
using MlxManager.ModelFixtures;
using MlxManager.Web.Tests.Servers.Infrastructure;
using MlxManager.Web.Tests.Ui.Infrastructure;
using MlxManager.Web.Tests.Ui.PageObjects;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace MlxManager.Web.Tests.Ui;

[CollectionDefinition(Name)]
public sealed class ConnectUi : ICollectionFixture<ServersUiHostFixture> // its own host: the fixture models, no other test's profiles
{
    public const string Name = "Connect UI";
}

/// <summary>/connect in Chromium: a member finds it in the nav, sees "no models yet", then every name with copyable snippets.</summary>
[Collection(ConnectUi.Name)]
[Trait("Category", "UI")]
public sealed class ConnectUiTests(ServersUiHostFixture fixture, ITestOutputHelper output) : UiTest(fixture, output)
{
    private const string Password = "a long enough password";

    [Fact]
    public async Task Member_SeesNoModelsYet_ThenEveryName_AndCopiesASnippet()
    {
        await Fixture.App.CreateUserAsync("connect-member@example.com", Password);
        var page = await NewPageAsync(ColorScheme.Dark);
        await page.Context.GrantPermissionsAsync(["clipboard-read", "clipboard-write"], new() { Origin = Fixture.BaseUrl });
        var baseUrl = Fixture.BaseUrl.TrimEnd('/') + "/v1";

        await StepAsync("no-models-yet", page, async () =>
        {
            await new LoginPage(page).SignInAsync("connect-member@example.com", Password);
            await new NavBar(page).Link("Connect").ClickAsync();
            await Expect(page).ToHaveURLAsync(new Regex("/connect$"));
            await Expect(page.GetByTestId("base-url")).ToHaveTextAsync(baseUrl);
            await Expect(page.GetByTestId("no-models")).ToContainTextAsync("No model is reachable through the gateway yet.");
            await Expect(page.GetByTestId("keys-link")).ToHaveAttributeAsync("href", "/keys");
        });

        await SeedProfiles.AddAsync(Fixture.App, "Qwen3 thinking", FixtureCatalog.QwenThinking.RepoId, configure: p => p.GatewayNames = "qwen");
        await SeedProfiles.AddAsync(Fixture.App, "Gemma vision", FixtureCatalog.GemmaVision.RepoId, "mlx_vlm.server");

        await StepAsync("every-name", page, async () =>
        {
            await page.ReloadAsync();
            await Expect(page.GetByTestId("no-models")).ToHaveCountAsync(0);
            var models = page.GetByTestId("connect-model");
            await Expect(models).ToHaveCountAsync(3);
            (await models.EvaluateAllAsync<string[]>("ms => ms.map(m => m.dataset.model)")).ShouldBe(["Gemma vision", "Qwen3 thinking", "qwen"]);
            await Expect(models.Nth(2)).ToContainTextAsync("another name for Qwen3 thinking");
        });

        await StepAsync("copy-python", page, async () =>
        {
            var qwen = page.Locator("[data-testid=connect-model][data-model=qwen]");
            await qwen.Locator("summary").ClickAsync();
            await Expect(qwen.GetByTestId("snippet-python")).ToBeVisibleAsync();
            await qwen.GetByTestId("copy-python").ClickAsync();
            await Expect(qwen.GetByTestId("copy-python")).ToHaveTextAsync("Copied");
            var copied = await page.EvaluateAsync<string>("() => navigator.clipboard.readText()");
            copied.ShouldContain($"base_url=\"{baseUrl}\"");
            copied.ShouldContain("api_key=os.environ[\"MLXM_API_KEY\"]");
            copied.ShouldContain("model=\"qwen\"");
            copied.ShouldContain("stream=True");
            Regex.IsMatch(await page.ContentAsync(), "mlxm_[0-9A-Za-z]{20,}").ShouldBeFalse("only the placeholder mlxm_… is shown, never a key");
        });
    }
}
