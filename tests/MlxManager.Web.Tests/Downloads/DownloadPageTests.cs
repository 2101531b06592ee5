using System.Net;
using System.Net.ServerSentEvents;
using System.Text.RegularExpressions;
using MlxManager.Core.Downloads;
using MlxManager.ModelFixtures;
using MlxManager.Web.Tests.Infrastructure;
using MlxManager.Web.Tests.Models;

namespace MlxManager.Web.Tests.Downloads;

/// <summary>The Models page with downloads (MODELS-02): tiles from the records, the SSE stream, the Hub tile giving way.</summary>
public sealed partial class DownloadPageTests
{
    private static readonly string Sharded = DownloadsHost.Sharded.RepoId;

    private static List<string> ModelTiles(string html) => ModelTilePattern().Matches(html).Select(m => WebUtility.HtmlDecode(m.Groups[1].Value)).ToList();

    private static List<string> DownloadTiles(string html) => DownloadTilePattern().Matches(html).Select(m => WebUtility.HtmlDecode(m.Groups[1].Value)).ToList();

    [Fact]
    public async Task WhileDownloading_TheDownloadTileLeadsThePage_AndTheOrdinaryTileGivesWay_ThenTheModelIsLocal()
    {
        await using var host = await DownloadsHost.StartAsync();
        using var admin = await host.SignInAsync();
        var before = await ModelsHost.SettledFragmentAsync(admin, "/models?poll=1");
        ModelTiles(before).ShouldContain(Sharded);
        host.Hub.Faults.Throttle(2_000_000);

        var record = await host.StartAsync(admin, Sharded);
        await host.WaitForAsync(record.Id, d => d.CompletedBytes > 0);

        var page = await admin.GetHtmlAsync("/models");
        DownloadTiles(page).ShouldBe([Sharded], "rebuilt from the record on a reload");
        page.IndexOf("data-testid=\"download-tile\"", StringComparison.Ordinal).ShouldBeLessThan(page.IndexOf("id=\"model-results\"", StringComparison.Ordinal), "download tiles sit above the results");
        page.ShouldContain("sse-connect=\"/downloads/events\"");
        page.ShouldContain("data-testid=\"download-progress\"");
        var hub = await ModelsHost.SettledFragmentAsync(admin, "/models?poll=1");
        ModelTiles(hub).ShouldNotContain(Sharded);
        ModelTiles(hub).ShouldContain(FixtureCatalog.LlamaTools.RepoId);
        ModelTiles(await ModelsHost.SettledFragmentAsync(admin, "/models?tab=local&poll=1")).ShouldNotContain(Sharded, "its partial copy is not shown as a local model");

        host.Hub.Faults.Reset();
        await host.WaitForStateAsync(record.Id, DownloadState.Completed);

        DownloadTiles(await admin.GetHtmlAsync("/models")).ShouldBeEmpty();
        ModelTiles(await ModelsHost.SettledFragmentAsync(admin, "/models?tab=local&poll=1")).ShouldBe([Sharded]);
        var after = await ModelsHost.SettledFragmentAsync(admin, "/models?poll=1");
        ModelTiles(after).ShouldContain(Sharded);
        after.ShouldContain("on this machine");
    }

    [Fact]
    public async Task OrdinaryUsers_SeeDownloadsWithoutControls_AndADisabledDownloadButton()
    {
        await using var host = await DownloadsHost.StartAsync();
        using var admin = await host.SignInAsync();
        using var member = await host.SignInAsync("member@example.com", admin: false);
        host.Hub.Faults.Throttle(1_000_000);
        var record = await host.StartAsync(admin, Sharded);
        await host.WaitForAsync(record.Id, d => d.CompletedBytes > 0);

        var page = await member.GetHtmlAsync("/models");
        DownloadTiles(page).ShouldBe([Sharded]);
        page.ShouldNotContain("data-testid=\"download-pause\"");
        page.ShouldNotContain("data-testid=\"download-cancel\"");
        var adminPage = await admin.GetHtmlAsync("/models");
        adminPage.ShouldContain("data-testid=\"download-pause\"");
        adminPage.ShouldContain("data-testid=\"download-cancel\"");
        var hub = await ModelsHost.SettledFragmentAsync(member, "/models?poll=1");
        hub.ShouldContain("data-testid=\"download-disabled\"");
        hub.ShouldNotContain("data-testid=\"download\"");
        (await admin.HtmxPostAsync($"/downloads/{record.Id}/cancel", "/models")).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Events_StreamTheTilesAsTheyChange_AndALibraryEventWhenTheDownloadCompletes()
    {
        await using var host = await DownloadsHost.StartAsync();
        using var admin = await host.SignInAsync();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/downloads/events");
        using var response = await admin.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("text/event-stream");
        await using var stream = await response.Content.ReadAsStreamAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var events = SseParser.Create(stream).EnumerateAsync(timeout.Token).GetAsyncEnumerator(timeout.Token);

        var first = await NextAsync(events);
        first.EventType.ShouldBe("downloads");
        DownloadTiles(first.Data).ShouldBeEmpty();

        host.Hub.Faults.Throttle(3_000_000);
        var record = await host.StartAsync(admin, Sharded);
        var seen = new List<SseItem<string>>();
        var percents = new List<double>();
        while (true)
        {
            var item = await NextAsync(events);
            seen.Add(item);
            if (item.EventType == "downloads" && PercentPattern().Match(item.Data) is { Success: true } percent)
            {
                percents.Add(double.Parse(percent.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));
                host.Hub.Faults.Throttle(percents.Count > 3 ? null : 3_000_000);
            }

            if (item.EventType == "library")
            {
                break;
            }
        }

        seen.ShouldContain(e => e.EventType == "downloads" && DownloadTiles(e.Data).Contains(Sharded) && e.Data.Contains("data-state=\"downloading\""));
        percents.Count.ShouldBeGreaterThan(2, "progress arrives while it downloads");
        percents.ShouldBeInOrder(SortDirection.Ascending);
        seen.Last(e => e.EventType == "downloads").Data.ShouldNotContain("data-testid=\"download-tile\"", customMessage: "the finished download leaves the tiles");
        (await host.RecordAsync(record.Id)).State.ShouldBe(DownloadState.Completed);
    }

    [Fact]
    public async Task Events_EndWhenTheAppStops()
    {
        var host = await DownloadsHost.StartAsync();
        using var admin = await host.SignInAsync();
        await using var stream = await admin.Http.GetStreamAsync("/downloads/events");
        var reading = Task.Run(async () =>
        {
            var buffer = new byte[4096];
            long total = 0;
            try
            {
                int read;
                while ((read = await stream.ReadAsync(buffer)) > 0)
                {
                    total += read;
                }

                return $"ended after {total} bytes";
            }
            catch (Exception exception) when (exception is IOException or HttpRequestException)
            {
                return $"broken after {total} bytes: {exception.Message}";
            }
        });

        await host.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(20));

        (await reading.WaitAsync(TimeSpan.FromSeconds(10))).ShouldNotBeNullOrEmpty();
    }

    private static async Task<SseItem<string>> NextAsync(IAsyncEnumerator<SseItem<string>> events)
    {
        (await events.MoveNextAsync()).ShouldBeTrue("the stream ended early");
        return events.Current;
    }

    [GeneratedRegex("data-testid=\"model-tile\" data-repo=\"([^\"]+)\"")]
    private static partial Regex ModelTilePattern();

    [GeneratedRegex("data-testid=\"download-tile\" data-repo=\"([^\"]+)\"")]
    private static partial Regex DownloadTilePattern();

    [GeneratedRegex("data-percent=\"([0-9.]+)\"")]
    private static partial Regex PercentPattern();
}
