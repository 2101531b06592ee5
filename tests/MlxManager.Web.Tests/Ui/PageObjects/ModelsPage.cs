using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace MlxManager.Web.Tests.Ui.PageObjects;

/// <summary>/models: the sticky search bar, the tabs and the tiles.</summary>
public sealed class ModelsPage(IPage page)
{
    public ILocator Search => page.GetByTestId("model-search");

    public ILocator Tiles => page.GetByTestId("model-tile");

    public ILocator Results => page.GetByTestId("model-results");

    public ILocator List => page.Locator("#model-list");

    public ILocator Tile(string repoId) => page.Locator($"[data-testid=model-tile][data-repo='{repoId}']");

    public ILocator Badge(string repoId, string kind) => Tile(repoId).Locator($"[data-testid=badge][data-kind={kind}]");

    public ILocator Filter(string name) => page.GetByTestId($"filter-{name}").Locator("input");

    public Task OpenAsync(string query = "") => page.GotoAsync("/models" + query);

    public Task ShowLocalAsync() => page.GetByTestId("tab-local").ClickAsync();

    public Task ShowHubAsync() => page.GetByTestId("tab-hub").ClickAsync();

    /// <summary>Waits until no tile says "detecting…" and the list stopped polling.</summary>
    public async Task WaitForDetectionAsync()
    {
        await Expect(page.GetByTestId("detecting")).ToHaveCountAsync(0, new() { Timeout = 30_000 });
        await Expect(List).Not.ToHaveAttributeAsync("hx-trigger", new System.Text.RegularExpressions.Regex("every"));
    }

    public async Task ShouldShowExactlyAsync(params string[] repoIds)
    {
        await Expect(Tiles).ToHaveCountAsync(repoIds.Length);
        foreach (var repoId in repoIds)
        {
            await Expect(Tile(repoId)).ToBeVisibleAsync();
        }
    }
}
