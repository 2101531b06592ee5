using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Hangfire;
using Hangfire.States;
using Hangfire.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using MlxManager.Core.Data;
using MlxManager.Core.Downloads;
using MlxManager.Core.Library;
using MlxManager.HubEmulator;
using MlxManager.ModelFixtures;
using MlxManager.Web.Tests.Infrastructure;

namespace MlxManager.Web.Tests.Downloads;

/// <summary>
/// Downloads as the app runs them: a record and a Hangfire job per download, joined when asked twice, at most N at
/// once, pause/resume/cancel, failures with reasons, restarts, and a second run of one job kept away.
/// </summary>
public sealed class DownloadQueueTests
{
    private static readonly string Sharded = DownloadsHost.Sharded.RepoId;

    private static string CdnPath(string etag) => $"/cdn/repos/{etag}";

    [Fact]
    public async Task DownloadButton_QueuesOneJobThatFillsTheCache_WithNoPageOpen()
    {
        await using var host = await DownloadsHost.StartAsync();
        using var admin = await host.SignInAsync();

        var response = await DownloadsHost.PressDownloadAsync(admin, Sharded);

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        var html = await response.Content.ReadAsStringAsync();
        html.ShouldContain("id=\"download-notice\"");
        html.ShouldContain("hx-swap-oob=\"true\"");
        html.ShouldNotContain("data-testid=\"model-tile\"", customMessage: "the ordinary tile's swap target gets nothing: it leaves the list");
        (await admin.GetHtmlAsync("/downloads/tiles")).ShouldContain($"data-testid=\"download-tile\" data-repo=\"{Sharded}\"");
        admin.Dispose();

        var record = await host.RecordOfAsync(Sharded);
        record.RequestedBy.ShouldBe(DownloadsHost.AdminEmail);
        var done = await host.WaitForStateAsync(record.Id, DownloadState.Completed);
        done.CompletedBytes.ShouldBe(done.TotalBytes);
        done.TotalBytes.ShouldBe(DownloadsHost.Repos[Sharded].Files.Sum(f => f.Size));
        done.FileCount.ShouldBe(DownloadsHost.Repos[Sharded].Files.Count);
        done.Commit.ShouldBe(DownloadsHost.Repos[Sharded].Commit);
        done.Runs.ShouldBe(1);
        done.LeaseOwner.ShouldBeNull();
        host.ShouldBeCompleteInTheCache(Sharded);
        (await host.SettledJobsOfAsync(record.Id, done.JobId!)).ShouldBe([done.JobId!]);
        var library = host.App.Services.GetRequiredService<ModelLibrary>().Find(Sharded).ShouldNotBeNull();
        library.Completeness.ShouldBe(ModelCompleteness.Complete, library.CompletenessReason);
        library.CompletenessReason.ShouldContain("files of commit", customMessage: "judged by the recorded file list");
    }

    [Fact]
    public async Task Start_AgainWhileDownloading_JoinsTheSameDownloadAndJob()
    {
        await using var host = await DownloadsHost.StartAsync();
        using var admin = await host.SignInAsync();
        using var api = await host.ApiClientAsync();
        host.Hub.Faults.Throttle(3_000_000);

        var first = await host.StartAsync(admin, Sharded);
        var again = await api.PostAsJsonAsync("/api/downloads", new { repoId = Sharded });
        var pressed = await DownloadsHost.PressDownloadAsync(admin, Sharded);

        again.StatusCode.ShouldBe(HttpStatusCode.Accepted);
        var body = await again.Content.ReadFromJsonAsync<JsonElement>();
        body.GetProperty("joined").GetBoolean().ShouldBeTrue();
        body.GetProperty("download").GetProperty("id").GetInt32().ShouldBe(first.Id);
        (await pressed.Content.ReadAsStringAsync()).ShouldContain("already downloading; you joined that download");
        (await host.RecordCountAsync(Sharded)).ShouldBe(1);
        host.Hub.Faults.Reset();
        var done = await host.WaitForStateAsync(first.Id, DownloadState.Completed);
        (await host.SettledJobsOfAsync(first.Id, done.JobId!)).ShouldBe([done.JobId!]);
        done.Runs.ShouldBe(1);
        foreach (var shard in DownloadsHost.Repos[Sharded].Files.Where(f => f.IsLfs))
        {
            // Completion can come a moment before the emulator logs the response's end.
            (await host.Hub.Requests.WaitForCountAsync(r => r.Path == CdnPath(shard.Etag), 1)).Count.ShouldBe(1, $"{shard.Path} fetched once");
        }
    }

    [Fact]
    public async Task ThreeDownloads_TwoRunAndTheThirdWaitsVisiblyInTheQueue()
    {
        await using var host = await DownloadsHost.StartAsync();
        using var admin = await host.SignInAsync();
        host.Hub.Faults.Throttle(1_500_000);

        var a = await host.StartAsync(admin, Sharded);
        var b = await host.StartAsync(admin, FixtureCatalog.LlamaTools.RepoId);
        var c = await host.StartAsync(admin, FixtureCatalog.Phi8Bit.RepoId);

        await host.WaitForAsync(a.Id, d => d.State == DownloadState.Downloading && d.CompletedBytes > 0);
        await host.WaitForAsync(b.Id, d => d.State == DownloadState.Downloading && d.CompletedBytes > 0);
        var waiting = await host.RecordAsync(c.Id);
        waiting.State.ShouldBe(DownloadState.Queued);
        host.JobStateOf(waiting.JobId.ShouldNotBeNull()).ShouldBe(EnqueuedState.StateName, "its job waits for a free download worker");
        var tiles = WebUtility.HtmlDecode(await admin.GetHtmlAsync("/downloads/tiles"));
        tiles.ShouldContain("Queued · #1 in line");
        tiles.ShouldContain("2 downloading · 1 waiting");

        host.Hub.Faults.Reset();
        foreach (var id in new[] { a.Id, b.Id, c.Id })
        {
            await host.WaitForStateAsync(id, DownloadState.Completed);
        }

        var started = host.Hub.Requests.Entries.Where(r => r.Listener == Listeners.Cdn).ToList();
        var thirdFirst = started.First(r => DownloadsHost.Repos[FixtureCatalog.Phi8Bit.RepoId].Files.Any(f => CdnPath(f.Etag) == r.Path));
        var firstFinished = started.Where(r => r.Sequence < thirdFirst.Sequence).ToList();
        firstFinished.ShouldNotBeEmpty("the third started only after another had finished");
        host.ShouldBeCompleteInTheCache(FixtureCatalog.Phi8Bit.RepoId);
    }

    [Fact]
    public async Task OneDownloadWorker_RunsTheQueueInTheOrderAsked_AsTheTilesSay()
    {
        await using var host = await DownloadsHost.StartAsync(app => app.Settings["MlxManager:Downloads:MaxConcurrent"] = "1");
        using var admin = await host.SignInAsync();
        host.Hub.Faults.Throttle(1_500_000);
        var first = await host.StartAsync(admin, Sharded);
        await host.WaitForAsync(first.Id, d => d.State == DownloadState.Downloading && d.CompletedBytes > 0);
        var second = await host.StartAsync(admin, FixtureCatalog.Phi8Bit.RepoId);
        var third = await host.StartAsync(admin, FixtureCatalog.LlamaTools.RepoId);

        var tiles = WebUtility.HtmlDecode(await admin.GetHtmlAsync("/downloads/tiles"));
        tiles.IndexOf("Queued · #1 in line", StringComparison.Ordinal).ShouldBeLessThan(tiles.IndexOf("Queued · #2 in line", StringComparison.Ordinal));
        tiles.IndexOf(FixtureCatalog.Phi8Bit.RepoId, StringComparison.Ordinal).ShouldBeLessThan(tiles.IndexOf(FixtureCatalog.LlamaTools.RepoId, StringComparison.Ordinal));

        host.Hub.Faults.Reset();
        var done = new List<Download>();
        foreach (var id in new[] { first.Id, second.Id, third.Id })
        {
            done.Add(await host.WaitForStateAsync(id, DownloadState.Completed));
        }

        done[1].StartedAtUtc.ShouldNotBeNull().ShouldBeGreaterThanOrEqualTo(done[0].FinishedAtUtc.ShouldNotBeNull(), "one at a time");
        done[2].StartedAtUtc.ShouldNotBeNull().ShouldBeGreaterThanOrEqualTo(done[1].FinishedAtUtc.ShouldNotBeNull(), "Hangfire's queue is first in, first out");
    }

    [Fact]
    public async Task Pause_KeepsThePartialBytes_AndResumeContinuesFromThemWithTheSameJob()
    {
        await using var host = await DownloadsHost.StartAsync();
        using var admin = await host.SignInAsync();
        host.Hub.Faults.Throttle(2_000_000);
        var record = await host.StartAsync(admin, Sharded);
        var running = await host.WaitForAsync(record.Id, d => d.CompletedBytes > 3_000_000);

        var clock = Stopwatch.StartNew();
        (await admin.HtmxPostAsync($"/downloads/{record.Id}/pause", "/models")).StatusCode.ShouldBe(HttpStatusCode.OK);
        var paused = await host.WaitForStateAsync(record.Id, DownloadState.Paused, TimeSpan.FromSeconds(2));
        clock.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(2));

        var partials = host.Partials(Sharded);
        partials.ShouldNotBeEmpty();
        paused.CompletedBytes.ShouldBeGreaterThanOrEqualTo(running.CompletedBytes);
        (await admin.GetHtmlAsync("/downloads/tiles")).ShouldContain("data-testid=\"download-resume\"");
        host.Hub.Faults.Reset();
        var resumedAt = DateTimeOffset.UtcNow;

        (await admin.HtmxPostAsync($"/downloads/{record.Id}/resume", "/models")).StatusCode.ShouldBe(HttpStatusCode.OK);
        var done = await host.WaitForStateAsync(record.Id, DownloadState.Completed);

        await DownloadsHost.ShouldHaveResumedAsync(host.Hub, Sharded, partials, resumedAt);

        host.ShouldBeCompleteInTheCache(Sharded);
        done.JobId.ShouldBe(paused.JobId);
        (await host.SettledJobsOfAsync(record.Id, done.JobId!)).ShouldBe([done.JobId!], "the download's one job was requeued, not duplicated");
        done.Runs.ShouldBe(2);
    }

    [Fact]
    public async Task Cancel_StopsWithinTwoSeconds_AndRemovesThePartialFiles()
    {
        await using var host = await DownloadsHost.StartAsync();
        using var admin = await host.SignInAsync();
        host.Hub.Faults.Throttle(2_000_000);
        var record = await host.StartAsync(admin, Sharded);
        await host.WaitForAsync(record.Id, d => d.CompletedBytes > 2_000_000);
        host.Partials(Sharded).ShouldNotBeEmpty();

        var clock = Stopwatch.StartNew();
        var answer = await admin.HtmxPostAsync($"/downloads/{record.Id}/cancel", "/models");
        var cancelled = await host.WaitForStateAsync(record.Id, DownloadState.Cancelled, TimeSpan.FromSeconds(2));
        clock.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(2));

        answer.StatusCode.ShouldBe(HttpStatusCode.OK);
        cancelled.FinishedAtUtc.ShouldNotBeNull();
        host.Partials(Sharded).ShouldBeEmpty();
        Directory.Exists(host.Cache(Sharded).Folder).ShouldBeFalse("nothing of the model was left behind");
        var tiles = await admin.GetHtmlAsync("/downloads/tiles");
        tiles.ShouldContain("data-state=\"cancelled\"");
        tiles.ShouldContain("Download again");
        host.App.Services.GetRequiredService<ModelLibrary>().Find(Sharded).ShouldBeNull();
    }

    [Fact]
    public async Task Cancel_OfAQueuedDownload_HappensAtOnce_AndItsJobLeavesTheQueue()
    {
        await using var host = await DownloadsHost.StartAsync(app => app.Settings["MlxManager:Downloads:MaxConcurrent"] = "1");
        using var admin = await host.SignInAsync();
        host.Hub.Faults.Throttle(1_000_000);
        var first = await host.StartAsync(admin, Sharded);
        var second = await host.StartAsync(admin, FixtureCatalog.Phi8Bit.RepoId);
        (await host.RecordAsync(second.Id)).State.ShouldBe(DownloadState.Queued);

        (await admin.HtmxPostAsync($"/downloads/{second.Id}/cancel", "/models")).StatusCode.ShouldBe(HttpStatusCode.OK);

        var cancelled = await host.RecordAsync(second.Id);
        cancelled.State.ShouldBe(DownloadState.Cancelled);
        host.JobStateOf(cancelled.JobId.ShouldNotBeNull()).ShouldBe(DeletedState.StateName, "the job never takes a download worker");
        (await admin.HtmxPostAsync($"/downloads/{second.Id}/dismiss", "/models")).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await admin.GetHtmlAsync("/downloads/tiles")).ShouldNotContain($"data-repo=\"{FixtureCatalog.Phi8Bit.RepoId}\"");
        host.Hub.Faults.Reset();
        await host.WaitForStateAsync(first.Id, DownloadState.Completed);
    }

    [Fact]
    public async Task RetriesExhausted_FailWithTheReason_AndDismissRemovesThePartialFiles()
    {
        await using var host = await DownloadsHost.StartAsync(app => app.Settings["MlxManager:Downloads:MaxRetries"] = "1");
        using var admin = await host.SignInAsync();
        var shard = DownloadsHost.Repos[Sharded].Files.First(f => f.IsLfs);
        var partial = host.Cache(Sharded).IncompletePath(shard.Etag);
        Directory.CreateDirectory(Path.GetDirectoryName(partial)!);
        await File.WriteAllBytesAsync(partial, new byte[100_000]);
        host.Hub.Faults.FailNext(10_000, status: 503, pathPrefix: "/cdn/", retryAfterSeconds: 0);

        var record = await host.StartAsync(admin, Sharded);
        var failed = await host.WaitForStateAsync(record.Id, DownloadState.Failed);

        failed.Error.ShouldNotBeNull().ShouldContain("2 times in a row", customMessage: "the Hub client's attempts (MaxAttempts 2 here), not multiplied by the downloader's");
        failed.Error.ShouldContain("HTTP 503");
        File.Exists(partial).ShouldBeTrue("a failed download keeps its partial files for a retry");
        var tiles = await admin.GetHtmlAsync("/downloads/tiles");
        tiles.ShouldContain("data-testid=\"download-retry\"");
        tiles.ShouldNotContain("data-testid=\"download-cancel\"");

        (await admin.HtmxPostAsync($"/downloads/{record.Id}/dismiss", "/models")).StatusCode.ShouldBe(HttpStatusCode.OK);

        (await host.RecordAsync(record.Id)).Dismissed.ShouldBeTrue();
        File.Exists(partial).ShouldBeFalse();
        Directory.Exists(host.Cache(Sharded).Folder).ShouldBeFalse();
        (await admin.GetHtmlAsync("/downloads/tiles")).ShouldNotContain("data-testid=\"download-tile\"");
        host.Hub.Faults.Reset();
        var again = await host.StartAsync(admin, Sharded);
        again.Id.ShouldNotBe(record.Id, "a dismissed download is history; asking again starts a new one");
        await host.WaitForStateAsync(again.Id, DownloadState.Completed);
    }

    [Fact]
    public async Task GatedModel_WithoutAToken_FailsWithTheLicencePage_AndRetryWithATokenCompletes()
    {
        await using var host = await DownloadsHost.StartAsync();
        using var admin = await host.SignInAsync();
        var gated = FixtureCatalog.Gated.RepoId;

        var record = await host.StartAsync(admin, gated);
        var failed = await host.WaitForStateAsync(record.Id, DownloadState.Failed);

        failed.Error.ShouldNotBeNull().ShouldContain($"accept its licence at {host.Hub.BaseUrl}/{gated}");
        failed.Error.ShouldContain("set a Hugging Face token (Settings page or HF_TOKEN)");
        var tiles = await admin.GetHtmlAsync("/downloads/tiles");
        tiles.ShouldContain("data-testid=\"download-error\"");
        tiles.ShouldContain("data-testid=\"download-retry\"");

        await host.App.Services.GetRequiredService<ModelSettingsStore>().SetHubTokenAsync(DownloadsHost.HubToken, null);
        (await admin.HtmxPostAsync($"/downloads/{record.Id}/retry", "/models")).StatusCode.ShouldBe(HttpStatusCode.OK);

        var done = await host.WaitForStateAsync(record.Id, DownloadState.Completed);
        done.Error.ShouldBeNull();
        host.ShouldBeCompleteInTheCache(gated);
        host.Hub.Requests.Entries.Where(r => r.Listener == Listeners.Cdn).ShouldAllBe(r => !r.HadAuthorization);
    }

    [Fact]
    public async Task NotEnoughDiskSpace_FailsAtOnceWithTheReasonOnTheTile()
    {
        await using var host = await DownloadsHost.StartAsync(app =>
            app.ConfigureServices = services => services.Replace(ServiceDescriptor.Singleton<IDiskSpace>(new TinyDisk())));
        using var admin = await host.SignInAsync();

        var record = await host.StartAsync(admin, Sharded);
        var failed = await host.WaitForStateAsync(record.Id, DownloadState.Failed);

        failed.Error.ShouldNotBeNull().ShouldStartWith($"Not enough free disk space for {Sharded}");
        (await admin.GetHtmlAsync("/downloads/tiles")).ShouldContain("Not enough free disk space");
        host.Hub.Requests.Entries.ShouldNotContain(r => r.Listener == Listeners.Cdn);
    }

    [Fact]
    public async Task AppRestartMidDownload_ContinuesFromThePartialBytesWithTheSameJob()
    {
        using var folder = new TestDataFolder();
        await using var hub = await HubEmulatorHost.StartAsync(new HubEmulatorOptions { Root = DownloadsHost.HubRoot, Token = DownloadsHost.HubToken });
        hub.Faults.Throttle(2_000_000);
        Download record;
        Dictionary<string, long> partials;
        await using (var first = await DownloadsHost.StartAsync(folder: folder, hub: hub))
        {
            using var admin = await first.SignInAsync();
            record = await first.StartAsync(admin, Sharded);
            await first.WaitForAsync(record.Id, d => d.CompletedBytes > 3_000_000);
        }

        var interrupted = await ReadRecordAsync(folder, record.Id);
        interrupted.State.ShouldBe(DownloadState.Downloading, "a shutdown leaves the download to the next start");
        interrupted.LeaseOwner.ShouldBeNull("a clean stop gives the record back");
        partials = DownloadsHost.PartialsIn(Path.Combine(folder.Path, "hf-cache"), Sharded);

        partials.ShouldNotBeEmpty();
        hub.Faults.Reset();
        var restartedAt = DateTimeOffset.UtcNow;

        await using var second = await DownloadsHost.StartAsync(folder: folder, hub: hub);
        second.App.Services.GetRequiredService<DownloadBoard>(); // builds the host: the released job runs at start
        var done = await second.WaitForStateAsync(record.Id, DownloadState.Completed);

        await DownloadsHost.ShouldHaveResumedAsync(hub, Sharded, partials, restartedAt);

        second.ShouldBeCompleteInTheCache(Sharded);
        done.JobId.ShouldBe(interrupted.JobId);
        (await second.SettledJobsOfAsync(record.Id, done.JobId!)).ShouldBe([done.JobId!]);
        (await second.RecordCountAsync(Sharded)).ShouldBe(1);
    }

    [Fact]
    public async Task SecondRunOfTheSameJob_LeavesTheRunningOneAlone()
    {
        await using var host = await DownloadsHost.StartAsync();
        using var admin = await host.SignInAsync();
        host.Hub.Faults.Throttle(3_000_000);
        var record = await host.StartAsync(admin, Sharded);
        await host.WaitForAsync(record.Id, d => d.State == DownloadState.Downloading && d.CompletedBytes > 0);

        // What the job storage does when a job outlives its invisibility timeout: hand the same job to a second worker.
        await using (var scope = host.App.Services.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<DownloadJob>().RunAsync(record.Id, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(5));
        }

        host.App.Logs.Entries.ShouldContain(e => e.Message.Contains("already going in this process", StringComparison.Ordinal));
        host.Hub.Faults.Reset();
        var done = await host.WaitForStateAsync(record.Id, DownloadState.Completed);
        done.Runs.ShouldBe(1);
        foreach (var shard in DownloadsHost.Repos[Sharded].Files.Where(f => f.IsLfs))
        {
            (await host.Hub.Requests.WaitForCountAsync(r => r.Path == CdnPath(shard.Etag), 1)).Count.ShouldBe(1);
        }
    }

    [Fact]
    public async Task Recovery_RequeuesTheJobOfAnOpenDownloadWhoseJobHasEnded()
    {
        await using var host = await DownloadsHost.StartAsync();
        using var admin = await host.SignInAsync();
        var record = await host.StartAsync(admin, FixtureCatalog.LlamaTools.RepoId);
        var done = await host.WaitForStateAsync(record.Id, DownloadState.Completed);
        using (var connection = host.App.Services.GetRequiredService<JobStorage>().GetConnection())
        {
            connection.GetRecurringJobs().ShouldContain(j => j.Id == DownloadRecovery.RecurringJobId);
        }

        // The record says "queued" while its job has finished (what a crash between two writes can leave).
        await host.App.WithScopeAsync(services => services.GetRequiredService<AppDbContext>().Downloads.Where(d => d.Id == record.Id)
            .ExecuteUpdateAsync(s => s.SetProperty(d => d.State, DownloadState.Queued).SetProperty(d => d.FinishedAtUtc, (DateTime?)null)));
        await using (var scope = host.App.Services.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<DownloadRecovery>().RunAsync(CancellationToken.None);
        }

        var again = await host.WaitForAsync(record.Id, d => d.State == DownloadState.Completed && d.Runs == 2, because: "the recovery ran its job again");
        again.JobId.ShouldBe(done.JobId);
        (await host.SettledJobsOfAsync(record.Id, done.JobId!)).ShouldBe([done.JobId!]);
    }

    [Fact]
    public async Task RecordLeasedByAnotherLiveProcess_IsLeftAlone_UntilTheLeaseExpires()
    {
        await using var host = await DownloadsHost.StartAsync();
        await using var scope = host.App.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var now = DateTime.UtcNow;
        var foreign = new DownloadLease("another-machine", 4242, 1, "run").ToString();
        var record = new Download
        {
            RepoId = FixtureCatalog.LlamaTools.RepoId,
            State = DownloadState.Queued,
            LeaseOwner = foreign,
            LeaseExpiresAtUtc = now.AddMinutes(5),
            CreatedAtUtc = now,
            QueuedAtUtc = now,
            UpdatedAtUtc = now,
        };
        db.Downloads.Add(record);
        await db.SaveChangesAsync();
        var job = scope.ServiceProvider.GetRequiredService<DownloadJob>();

        await job.RunAsync(record.Id, CancellationToken.None);

        var untouched = await host.RecordAsync(record.Id);
        untouched.State.ShouldBe(DownloadState.Queued);
        untouched.LeaseOwner.ShouldBe(foreign);
        host.Hub.Requests.Entries.ShouldBeEmpty("the other process is downloading it");
        host.App.Logs.Entries.ShouldContain(e => e.Message.Contains("another run holds its record", StringComparison.Ordinal));

        // The other process stops renewing: its lease runs out.
        await db.Downloads.Where(d => d.Id == record.Id)
            .ExecuteUpdateAsync(s => s.SetProperty(d => d.LeaseExpiresAtUtc, DateTime.UtcNow.AddSeconds(-1)));
        await job.RunAsync(record.Id, CancellationToken.None);

        (await host.RecordAsync(record.Id)).State.ShouldBe(DownloadState.Completed);
        host.ShouldBeCompleteInTheCache(FixtureCatalog.LlamaTools.RepoId);
    }

    [Fact]
    public async Task Api_StartsForAdminsOnly_AndReportsProgressAsJson()
    {
        await using var host = await DownloadsHost.StartAsync();
        await host.App.CreateUserAsync(DownloadsHost.AdminEmail, admin: true);
        await host.App.CreateUserAsync("member@example.com");
        using var admin = await host.ApiClientAsync();
        using var member = await host.ApiClientAsync("member@example.com");
        using var anonymous = host.App.CreateClient();

        (await anonymous.PostAsJsonAsync("/api/downloads", new { repoId = Sharded })).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        (await member.PostAsJsonAsync("/api/downloads", new { repoId = Sharded })).StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        (await admin.PostAsJsonAsync("/api/downloads", new { repoId = "not a repo" })).StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        var started = await admin.PostAsJsonAsync("/api/downloads", new { repoId = Sharded });

        started.StatusCode.ShouldBe(HttpStatusCode.Accepted);
        started.Headers.Location.ShouldNotBeNull();
        var id = (await started.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("download").GetProperty("id").GetInt32();
        await host.WaitForStateAsync(id, DownloadState.Completed);
        var one = await member.GetFromJsonAsync<JsonElement>($"/api/downloads/{id}");
        one.GetProperty("state").GetString().ShouldBe("Completed");
        one.GetProperty("percent").GetDouble().ShouldBe(100);
        var list = await member.GetFromJsonAsync<JsonElement>("/api/downloads");
        list.EnumerateArray().ShouldContain(d => d.GetProperty("id").GetInt32() == id);
        (await member.PostAsync($"/api/downloads/{id}/cancel", null)).StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        (await admin.PostAsync($"/api/downloads/{id}/cancel", null)).StatusCode.ShouldBe(HttpStatusCode.Conflict);
        (await admin.PostAsync("/api/downloads/9999/pause", null)).StatusCode.ShouldBe(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task BrowserActions_AreForAdmins_AndNeedTheAntiforgeryToken()
    {
        await using var host = await DownloadsHost.StartAsync();
        using var member = await host.SignInAsync("member@example.com", admin: false);
        using var admin = await host.SignInAsync();

        await DownloadsHost.PressDownloadAsync(member, Sharded); // refused: no record below
        (await admin.HtmxPostAsync("/models?handler=Download&repoId=" + Uri.EscapeDataString(Sharded), "/models", withToken: false)).StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await member.HtmxPostAsync("/downloads/1/pause", "/models")).StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        (await host.RecordCountAsync(Sharded)).ShouldBe(0);
        var tiles = await member.GetHtmlAsync("/downloads/tiles");
        tiles.ShouldNotContain("data-testid=\"download-tile\"");
    }

    private static async Task<Download> ReadRecordAsync(TestDataFolder folder, int id)
    {
        var options = new DbContextOptionsBuilder<AppDbContext>().UseSqlite(SqliteDatabase.ConnectionString(Path.Combine(folder.Path, "app.db"))).Options;
        await using var db = new AppDbContext(options);
        return await db.Downloads.AsNoTracking().FirstAsync(d => d.Id == id);
    }

    private sealed class TinyDisk : IDiskSpace
    {
        public long AvailableBytes(string path) => 1_000_000;
    }
}
