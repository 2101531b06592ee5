using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using MlxManager.Core.Library;
using MlxManager.HubEmulator;
using MlxManager.ModelFixtures;
using MlxManager.Web.Tests.Downloads;
using MlxManager.Web.Tests.Ui.Infrastructure;
using MlxManager.Web.Tests.Ui.PageObjects;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace MlxManager.Web.Tests.Ui;

/// <summary>The app pointed at an in-process HubEmulator (a three-shard model, two small ones, the gated one), throttled
/// so progress can be watched, downloading into an empty temp HF cache; one download at a time.</summary>
public sealed class DownloadsUiFixture : UiHostFixture
{
    public HubEmulatorHost Hub { get; private set; } = null!;

    public string HubCache { get; private set; } = "";

    public override async Task InitializeAsync()
    {
        Hub = await HubEmulatorHost.StartAsync(new HubEmulatorOptions { Root = DownloadsHost.HubRoot, Token = DownloadsHost.HubToken });
        HubCache = Path.Combine(App.DataFolder.Path, "hf-cache");
        Directory.CreateDirectory(HubCache);
        DownloadsHost.Configure(App, Hub, HubCache);
        App.Settings["MlxManager:Downloads:MaxConcurrent"] = "1";
        await base.InitializeAsync();

        // The gated fixture belongs to meta-llama: search that author too, as an admin would on the Settings page.
        await App.Services.GetRequiredService<ModelSettingsStore>().SaveSearchAsync(["mlx-community", "meta-llama"], 30, null);
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await Hub.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class DownloadsUi : ICollectionFixture<DownloadsUiFixture>
{
    public const string Name = "Downloads UI";
}

/// <summary>MODELS-02 in Chromium: the download tile takes the model's place at the top, shows progress over SSE, and
/// the finished model appears under "On this machine" without a reload; queued, paused, failed and cancelled tiles.</summary>
[Collection(DownloadsUi.Name)]
[Trait("Category", "UI")]
public sealed class DownloadsUiTests(DownloadsUiFixture fixture, ITestOutputHelper output) : UiTest(fixture, output)
{
    private const string Password = "a long enough password";
    private static readonly string Sharded = DownloadsHost.Sharded.RepoId;

    private async Task<IPage> AdminPageAsync(string email, ColorScheme scheme = ColorScheme.Light, [System.Runtime.CompilerServices.CallerMemberName] string test = "")
    {
        await Fixture.App.CreateUserAsync(email, Password, admin: true);
        var page = await NewPageAsync(scheme, test);
        page.Dialog += (_, dialog) => dialog.AcceptAsync();
        await new LoginPage(page).SignInAsync(email, Password);
        await Expect(page).ToHaveURLAsync(new Regex("/$"));
        return page;
    }

    [Fact]
    public async Task Download_TileMovesToTheTopWithProgress_ThenTheModelIsOnThisMachineWithoutAReload()
    {
        var page = await AdminPageAsync("downloader@example.com");
        var models = new ModelsPage(page);
        var downloads = new DownloadTiles(page);
        fixture.Hub.Faults.Throttle(1_000_000);

        await StepAtTopAsync("hub-tile-before", page, async () =>
        {
            await models.OpenAsync();
            await Expect(models.Tile(Sharded)).ToBeVisibleAsync();
            await Expect(downloads.Tile(Sharded)).ToHaveCountAsync(0);
            await page.EvaluateAsync("() => { window.__sameDocument = true; }");
        });

        await StepAtTopAsync("download-tile-at-the-top", page, async () =>
        {
            await downloads.DownloadButton(Sharded).ClickAsync();
            await Expect(models.Tile(Sharded)).ToHaveCountAsync(0);
            await Expect(downloads.Tile(Sharded)).ToBeVisibleAsync();
            await Expect(downloads.Status(Sharded)).ToHaveTextAsync(new Regex("Downloading"), new() { Timeout = 15_000 });
            var tileTop = (await downloads.Tile(Sharded).BoundingBoxAsync())!.Y;
            var resultsTop = (await models.Results.BoundingBoxAsync())!.Y;
            tileTop.ShouldBeLessThan(resultsTop, "the download tile sits above the results");
        });

        await StepAtTopAsync("progress-moves", page, async () =>
        {
            var first = await WaitForFractionAsync(downloads, f => f > 0.05);
            await WaitForFractionAsync(downloads, f => f > first + 0.1);
            await Expect(downloads.Tile(Sharded).GetByTestId("download-speed")).ToHaveTextAsync(new Regex(@"\d.*B/s"));
            await Expect(downloads.Tile(Sharded).GetByTestId("download-eta")).ToHaveTextAsync(new Regex(@"\d+ (s|min)"));
            (await page.Locator("[data-testid=model-tile] progress").CountAsync()).ShouldBe(0, "only download tiles show progress");
        });

        await StepAtTopAsync("switch-to-this-machine-while-downloading", page, async () =>
        {
            await models.ShowLocalAsync();
            await Expect(downloads.Tile(Sharded)).ToBeVisibleAsync();
            await Expect(models.Tile(Sharded)).ToHaveCountAsync(0);
        });

        await StepAtTopAsync("completed-and-on-this-machine", page, async () =>
        {
            await Expect(downloads.Tile(Sharded)).ToHaveCountAsync(0, new() { Timeout = 60_000 });
            await Expect(models.Tile(Sharded)).ToBeVisibleAsync(new() { Timeout = 15_000 });
            (await page.EvaluateAsync<bool>("() => window.__sameDocument === true")).ShouldBeTrue("no reload happened");
        });

        await StepAtTopAsync("hub-tab-shows-it-local", page, async () =>
        {
            fixture.Hub.Faults.Reset();
            await models.ShowHubAsync();
            await Expect(models.Tile(Sharded).Locator(".chip-local")).ToContainTextAsync("on this machine");
            await Expect(downloads.DownloadButton(Sharded)).ToHaveCountAsync(0);
        });
    }

    [Fact]
    public async Task DownloadTiles_ShowTheQueue_Pause_Cancel_AndAFailureWithRetry_InDarkMode()
    {
        var page = await AdminPageAsync("steerer@example.com", ColorScheme.Dark);
        var models = new ModelsPage(page);
        var downloads = new DownloadTiles(page);
        var llama = FixtureCatalog.LlamaTools.RepoId;
        var phi = FixtureCatalog.Phi8Bit.RepoId;
        var gated = FixtureCatalog.Gated.RepoId;
        fixture.Hub.Faults.Throttle(300_000);

        await StepAtTopAsync("one-downloading-one-queued", page, async () =>
        {
            await models.OpenAsync();
            // Once every detection is done the results stop refreshing under the pointer. A tile can show its badges
            // while its detection is still pending, so wait for the poll itself to end, not for the "detecting" chips.
            await Expect(models.Tile(llama)).ToBeVisibleAsync(new() { Timeout = 15_000 });
            await Expect(page.Locator("#model-list[data-polling]")).ToHaveCountAsync(0, new() { Timeout = 15_000 });
            await downloads.DownloadButton(llama).ClickAsync();
            await Expect(downloads.Status(llama)).ToHaveTextAsync(new Regex("Downloading"), new() { Timeout = 15_000 });
            await downloads.DownloadButton(phi).ClickAsync();
            await Expect(downloads.Status(phi)).ToHaveTextAsync(new Regex("#1 in line"));
            await Expect(downloads.All.First).ToHaveAttributeAsync("data-repo", llama);
        });

        await StepAtTopAsync("paused-and-the-next-starts", page, async () =>
        {
            await downloads.Button(llama, "pause").ClickAsync();
            await Expect(downloads.Status(llama)).ToHaveTextAsync(new Regex("Paused"));
            await Expect(downloads.Button(llama, "resume")).ToBeVisibleAsync();
            await Expect(downloads.Status(phi)).ToHaveTextAsync(new Regex("Downloading"), new() { Timeout = 15_000 });
        });

        await StepAtTopAsync("cancelled", page, async () =>
        {
            await downloads.Button(phi, "cancel").ClickAsync();
            await Expect(downloads.Status(phi)).ToHaveTextAsync(new Regex("Cancelled"), new() { Timeout = 2_000 });
            await Expect(downloads.Button(phi, "retry")).ToHaveTextAsync("Download again");
        });

        await StepAtTopAsync("gated-fails-with-reason-and-retry", page, async () =>
        {
            await downloads.DownloadButton(gated).ClickAsync();
            await Expect(downloads.Status(gated)).ToHaveTextAsync(new Regex("Failed"), new() { Timeout = 15_000 });
            await Expect(downloads.Error(gated)).ToContainTextAsync("accept its licence at");
            await Expect(downloads.Error(gated)).ToContainTextAsync("set a Hugging Face token");
            await Expect(downloads.Button(gated, "retry")).ToBeVisibleAsync();
        });

        await StepAtTopAsync("survives-a-reload", page, async () =>
        {
            await page.ReloadAsync();
            await Expect(downloads.All).ToHaveCountAsync(3);
            await Expect(downloads.Status(llama)).ToHaveTextAsync(new Regex("Paused"));
            await Expect(downloads.Status(phi)).ToHaveTextAsync(new Regex("Cancelled"));
            await Expect(downloads.Status(gated)).ToHaveTextAsync(new Regex("Failed"));
        });

        await StepAtTopAsync("resumed-to-the-end-and-tiles-dismissed", page, async () =>
        {
            fixture.Hub.Faults.Reset();
            await downloads.Button(llama, "resume").ClickAsync();
            await Expect(downloads.Tile(llama)).ToHaveCountAsync(0, new() { Timeout = 30_000 });
            await downloads.Button(phi, "dismiss").ClickAsync();
            await downloads.Button(gated, "dismiss").ClickAsync();
            await Expect(downloads.All).ToHaveCountAsync(0);
        });
    }

    /// <summary>A step whose screenshot starts at the top of the page (a click may have scrolled it, and the sticky bars
    /// would then cover the tiles in a full-page shot).</summary>
    private Task StepAtTopAsync(string name, IPage page, Func<Task> action) =>
        StepAsync(name, page, async () =>
        {
            await action();
            await page.EvaluateAsync("() => window.scrollTo(0, 0)");
        });

    private static Task<double> WaitForFractionAsync(DownloadTiles downloads, Func<double, bool> condition) =>
        Eventually.ValueAsync(() => downloads.FractionAsync(Sharded), condition, TimeSpan.FromSeconds(30), "the progress bar moves", fraction => $"{fraction:P0}");
}
