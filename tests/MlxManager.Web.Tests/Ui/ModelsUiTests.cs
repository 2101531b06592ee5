using System.Text.RegularExpressions;
using Microsoft.Playwright;
using MlxManager.HubEmulator;
using MlxManager.ModelFixtures;
using MlxManager.Web.Tests.Ui.Infrastructure;
using MlxManager.Web.Tests.Ui.PageObjects;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace MlxManager.Web.Tests.Ui;

/// <summary>The app pointed at an in-process HubEmulator (FixtureCatalog.Small) and a temp HF cache with three fixtures.</summary>
public sealed class ModelsUiFixture : UiHostFixture
{
    public static readonly FixtureSpec[] Cached = [FixtureCatalog.QwenThinking, FixtureCatalog.GemmaVision, FixtureCatalog.Phi8Bit, FixtureCatalog.Unsupported];

    private string? _root;

    public HubEmulatorHost Hub { get; private set; } = null!;

    public override async Task InitializeAsync()
    {
        _root = Path.Combine(App.DataFolder.Path, "hub-root");
        HubRootWriter.WriteAll(_root, FixtureCatalog.Small);
        Hub = await HubEmulatorHost.StartAsync(new HubEmulatorOptions { Root = _root });
        var cache = Path.Combine(App.DataFolder.Path, "hf-cache");
        foreach (var spec in Cached)
        {
            HfCacheWriter.Write(cache, spec);
        }

        App.UseHuggingFace(Hub.BaseUrl, cache);
        // Only mlx_lm.server is installed here (the emulator's launcher), so "Runs here" keeps what mlx_lm loads.
        App.Settings["MlxManager:Engines:mlx_lm.server:Path"] = Path.Combine(Servers.Infrastructure.EngineWorld.Instance.Launchers, "mlx_lm.server");
        await base.InitializeAsync();
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await Hub.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class ModelsUi : ICollectionFixture<ModelsUiFixture>
{
    public const string Name = "Models UI";
}

/// <summary>Search, filters, badges filled in by detection, tooltips, tabs, in Chromium.</summary>
[Collection(ModelsUi.Name)]
[Trait("Category", "UI")]
public sealed class ModelsUiTests(ModelsUiFixture fixture, ITestOutputHelper output) : UiTest(fixture, output)
{
    private const string Password = "a long enough password";

    private async Task<IPage> SignedInAsync(string email, ColorScheme scheme = ColorScheme.Light, [System.Runtime.CompilerServices.CallerMemberName] string test = "")
    {
        await Fixture.App.CreateUserAsync(email, Password, admin: true);
        var page = await NewPageAsync(scheme, test);
        await new LoginPage(page).SignInAsync(email, Password);
        await Expect(page).ToHaveURLAsync(new Regex("/$"));
        return page;
    }

    [Fact]
    public async Task SearchFilterAndSwitchTabs_WithBadgesFromDetectionAndTooltipSources()
    {
        var page = await SignedInAsync("models-admin@example.com");
        var models = new ModelsPage(page);
        var qwen = FixtureCatalog.QwenThinking.RepoId;

        await StepAsync("hub-results", page, async () =>
        {
            await models.OpenAsync();
            await Expect(models.Tiles.First).ToBeVisibleAsync();
            await models.WaitForDetectionAsync();
            await Expect(models.Badge(qwen, "Thinking")).ToBeVisibleAsync();
            await Expect(models.Badge(qwen, "Tools")).ToBeVisibleAsync();
        });
        await StepAsync("search-qwen", page, async () =>
        {
            await models.Search.FillAsync("qwen");
            await Expect(page).ToHaveURLAsync(new Regex(@"/models\?q=qwen$"));
            await models.ShouldShowExactlyAsync(qwen, FixtureCatalog.QwenVision.RepoId, FixtureCatalog.DeepSeekR1.RepoId);
        });
        await StepAsync("filter-vision", page, async () =>
        {
            await models.Search.FillAsync("");
            await models.Filter("vision").CheckAsync();
            await Expect(page).ToHaveURLAsync(new Regex(@"/models\?vision=1$"));
            await models.ShouldShowExactlyAsync(FixtureCatalog.GemmaVision.RepoId, FixtureCatalog.QwenVision.RepoId);
        });
        await StepAsync("filter-tools", page, async () =>
        {
            await models.Filter("vision").UncheckAsync();
            await models.Filter("tools").CheckAsync();
            await Expect(page).ToHaveURLAsync(new Regex(@"/models\?tools=1$"));
            await models.ShouldShowExactlyAsync(FixtureCatalog.LlamaTools.RepoId, qwen, FixtureCatalog.QwenVision.RepoId, FixtureCatalog.InlineThinking.RepoId);
        });
        await StepAsync("tooltip-hover", page, async () =>
        {
            var context = models.Badge(qwen, "Context");
            await context.HoverAsync();
            var tip = context.Locator(".tip");
            await Expect(tip).ToBeVisibleAsync();
            await Expect(tip).ToHaveTextAsync("config.json: max_position_embeddings = 40960");
        });
        await StepAsync("tooltip-keyboard", page, async () =>
        {
            await page.Mouse.MoveAsync(0, 0);
            var tools = models.Badge(qwen, "Tools");
            await tools.FocusAsync();
            await Expect(tools.Locator(".tip")).ToBeVisibleAsync();
            await Expect(tools.Locator(".tip")).ToContainTextAsync("chat_template");
            var verdict = models.Tile(qwen).GetByTestId("memory-verdict");
            await verdict.FocusAsync();
            await Expect(verdict.Locator(".tip")).ToContainTextAsync("needs about");
        });
        await StepAsync("local-tab", page, async () =>
        {
            await models.Filter("tools").UncheckAsync();
            await Expect(page).ToHaveURLAsync(new Regex(@"/models$"));
            await models.ShowLocalAsync();
            await Expect(page).ToHaveURLAsync(new Regex(@"/models\?tab=local$"));
            await models.ShouldShowExactlyAsync(ModelsUiFixture.Cached.Select(s => s.RepoId).ToArray());
            await models.WaitForDetectionAsync();
            await Expect(models.Badge(FixtureCatalog.GemmaVision.RepoId, "Vision")).ToBeVisibleAsync();
            await Expect(models.Tile(qwen).GetByTestId("delete")).ToBeVisibleAsync();
        });
        await StepAsync("back-to-hub", page, async () =>
        {
            await page.GoBackAsync();
            await Expect(page).ToHaveURLAsync(new Regex(@"/models$"));
            await Expect(page.GetByTestId("tab-hub").Locator("input")).ToBeCheckedAsync();
            await Expect(models.Tile(FixtureCatalog.LlamaTools.RepoId)).ToBeVisibleAsync();
        });
    }

    [Theory]
    [InlineData(ColorScheme.Light)]
    [InlineData(ColorScheme.Dark)]
    public async Task ModelsAndSettings_LookRightInLightAndDark(ColorScheme scheme)
    {
        var name = scheme.ToString().ToLowerInvariant();
        var page = await SignedInAsync($"look-{name}@example.com", scheme);
        var models = new ModelsPage(page);

        await StepAsync($"hub-{name}", page, async () =>
        {
            await models.OpenAsync();
            await models.WaitForDetectionAsync();
            await Expect(models.Tiles).ToHaveCountAsync(7);
            await models.Badge(FixtureCatalog.GemmaVision.RepoId, "Context").HoverAsync();
        });
        await StepAsync($"local-{name}", page, async () =>
        {
            await models.OpenAsync("?tab=local");
            await models.WaitForDetectionAsync();
            await Expect(models.Tiles).ToHaveCountAsync(ModelsUiFixture.Cached.Length);
        });
        await StepAsync($"settings-{name}", page, async () =>
        {
            await page.GotoAsync("/admin/settings");
            await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Settings", Exact = true })).ToBeVisibleAsync();
            await Expect(page.GetByTestId("effective-HF_ENDPOINT")).ToContainTextAsync(Fixture.BaseUrl.Length > 0 ? "127.0.0.1" : "");
        });
    }
}
