using Microsoft.Playwright;

namespace MlxManager.Web.Tests.Ui.PageObjects;

/// <summary>/usage: range and user filters, the tokens-per-day chart, the tables, "in use right now" and the CSV link.</summary>
public sealed class UsagePage(IPage page)
{
    public ILocator Chart => page.GetByTestId("tokens-chart");

    public ILocator Bars => Chart.Locator("rect[class^='chart-series-']");

    public ILocator Legend => Chart.Locator(".chart-legend li");

    public ILocator Range(int days) => page.GetByTestId($"range-{days}");

    public ILocator By(string grouping) => page.GetByTestId($"by-{grouping}");

    public ILocator UserFilter => page.GetByTestId("user-filter");

    public ILocator Apply => page.GetByTestId("apply-filter");

    public ILocator Table(string what) => page.GetByTestId($"usage-{what}");

    public ILocator InUse => page.GetByTestId("in-use");

    public ILocator TotalTokens => page.GetByTestId("total-tokens");

    public ILocator Csv => page.GetByTestId("csv-export");

    /// <summary>Clicks "Export CSV" and returns the downloaded file's text.</summary>
    public async Task<string> DownloadCsvAsync()
    {
        var download = await page.RunAndWaitForDownloadAsync(() => Csv.ClickAsync());
        var path = await download.PathAsync();
        return await File.ReadAllTextAsync(path);
    }
}
