using Microsoft.Playwright;

namespace MlxManager.Web.Tests.Ui.PageObjects;

/// <summary>The download tiles at the top of /models.</summary>
public sealed class DownloadTiles(IPage page)
{
    public ILocator All => page.GetByTestId("download-tile");

    public ILocator Tile(string repoId) => page.Locator($"[data-testid=download-tile][data-repo='{repoId}']");

    public ILocator Status(string repoId) => Tile(repoId).GetByTestId("download-status");

    public ILocator Progress(string repoId) => Tile(repoId).GetByTestId("download-progress");

    public ILocator Percent(string repoId) => Tile(repoId).GetByTestId("download-percent");

    public ILocator Error(string repoId) => Tile(repoId).GetByTestId("download-error");

    public ILocator Button(string repoId, string action) => Tile(repoId).GetByTestId($"download-{action}");

    /// <summary>The Download button of a model's ordinary tile.</summary>
    public ILocator DownloadButton(string repoId) => page.Locator($"[data-testid=model-tile][data-repo='{repoId}'] [data-testid=download]");

    /// <summary>The progress bar's value as a share of its maximum (0–1).</summary>
    public async Task<double> FractionAsync(string repoId)
    {
        var bar = Progress(repoId);
        var value = await bar.EvaluateAsync<double>("p => p.max > 0 && p.hasAttribute('value') ? p.value / p.max : 0");
        return value;
    }
}
