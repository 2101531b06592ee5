using System.Text.RegularExpressions;
using Microsoft.Playwright;
using MlxManager.ModelFixtures;
using MlxManager.Web.Tests.Ui.Infrastructure;
using MlxManager.Web.Tests.Ui.PageObjects;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace MlxManager.Web.Tests.Ui;

/// <summary>The Models tile's engines chip (which engines can load the model, with the reason) and the "Runs here" filter, in Chromium.</summary>
[Collection(ModelsUi.Name)]
[Trait("Category", "UI")]
public sealed class ModelsEnginesUiTests(ModelsUiFixture fixture, ITestOutputHelper output) : UiTest(fixture, output)
{
    [Fact]
    public async Task EnginesChip_SaysWhichEnginesLoadTheModel_AndRunsHereKeepsWhatAnInstalledEngineLoads()
    {
        await Fixture.App.CreateUserAsync("engines-chip@example.com", "a long enough password", admin: true);
        var page = await NewPageAsync(ColorScheme.Light);
        await new LoginPage(page).SignInAsync("engines-chip@example.com", "a long enough password");
        await Expect(page).ToHaveURLAsync(new Regex("/$"));
        var models = new ModelsPage(page);
        var vision = FixtureCatalog.GemmaVision.RepoId;
        var unknown = FixtureCatalog.Unsupported.RepoId;

        await StepAsync("engines-chips", page, async () =>
        {
            await models.OpenAsync();
            await models.WaitForDetectionAsync();
            await Expect(models.Badge(FixtureCatalog.QwenThinking.RepoId, "Engines")).ToHaveTextAsync(new Regex("^mlx_lm · mlx_vlm · mlx-openai-server"));
            await Expect(models.Badge(vision, "Engines")).ToHaveTextAsync(new Regex("^mlx_lm \\(text only\\) · mlx_vlm · mlx-openai-server"));
        });
        await StepAsync("text-only-tooltip", page, async () =>
        {
            var chip = models.Badge(vision, "Engines");
            await chip.FocusAsync();
            await Expect(chip.Locator(".tip")).ToBeVisibleAsync();
            await Expect(chip.Locator(".tip")).ToContainTextAsync("as text only: the vision weights are dropped");
        });
        await StepAsync("no-engine-tooltip", page, async () =>
        {
            await models.OpenAsync("?tab=local");
            await models.WaitForDetectionAsync();
            var chip = models.Badge(unknown, "Engines");
            await Expect(chip).ToHaveTextAsync(new Regex("^no engine"));
            await chip.HoverAsync();
            await Expect(chip.Locator(".tip")).ToBeVisibleAsync();
            await Expect(chip.Locator(".tip")).ToContainTextAsync("config.json: model_type = \"frobnicator\"; not in mlx_lm's or mlx_vlm's chat models");
        });
        await StepAsync("profile-guard", page, async () =>
        {
            await page.Mouse.MoveAsync(0, 0);
            await models.Tile(unknown).GetByTestId("create-profile").ClickAsync();
            await Expect(page.GetByTestId("engine-check")).ToContainTextAsync("\"frobnicator\" is not in mlx_lm 0.32.0's models");
            await page.GetByTestId("save-profile").ClickAsync();
            await Expect(page.GetByTestId("notes-Engine")).ToContainTextAsync("cannot load this model");
            await page.GetByTestId("notes-Engine").ScrollIntoViewIfNeededAsync();
        });
        await StepAsync("profile-try-anyway", page, async () =>
        {
            await page.GetByTestId("try-anyway").Locator("input").CheckAsync();
            await page.GetByTestId("save-profile").ClickAsync();
            await Expect(page).ToHaveURLAsync(new Regex("/profiles$"));
            await Expect(page.GetByTestId("installed-engines")).ToContainTextAsync("0.28.4");
            await page.GetByTestId("installed-engines").ScrollIntoViewIfNeededAsync();
        });
        await StepAsync("runs-here", page, async () =>
        {
            await models.OpenAsync("?tab=local");
            await models.WaitForDetectionAsync();
        });
        await StepAsync("runs-here-filtered", page, async () =>
        {
            await page.Mouse.MoveAsync(0, 0);
            await models.Filter("runs-here").CheckAsync();
            await Expect(page).ToHaveURLAsync(new Regex(@"/models\?tab=local&runs=1$"));
            await models.ShouldShowExactlyAsync(FixtureCatalog.QwenThinking.RepoId, vision, FixtureCatalog.Phi8Bit.RepoId);
            await Expect(models.Tile(unknown)).ToHaveCountAsync(0);
        });
    }
}
