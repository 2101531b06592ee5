using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Hangfire;
using Hangfire.Common;
using Hangfire.States;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using MlxManager.Core.Data;
using MlxManager.Core.Downloads;
using MlxManager.Core.Library;
using MlxManager.HubEmulator;
using MlxManager.ModelFixtures;
using MlxManager.Web.Tests.Infrastructure;

namespace MlxManager.Web.Tests.Downloads;

/// <summary>
/// The app wired to a HubEmulator (through the HF_ENDPOINT-equivalent setting) and a temp HF cache inside its data
/// folder, with fast retries and progress written five times a second. The Hub root is shared by all tests: a
/// three-shard model, two small ones and the gated one.
/// </summary>
public sealed class DownloadsHost : IAsyncDisposable
{
    public const string HubToken = "hf_downloads_token_4321";
    public const string AdminEmail = "admin@example.com";

    /// <summary>Three shards, ~12.6 MB in all.</summary>
    public static readonly FixtureSpec Sharded = FixtureCatalog.Sized(
        FixtureCatalog.QwenThinking with { RepoId = "mlx-community/Qwen3-Web-Sharded-4bit" }, 12 * 1024 * 1024, 3);

    public static readonly FixtureSpec[] Others = [FixtureCatalog.LlamaTools, FixtureCatalog.Phi8Bit, FixtureCatalog.Gated];

    private static readonly Lazy<(string Root, IReadOnlyDictionary<string, WrittenRepo> Repos)> SharedRoot = new(() =>
    {
        var root = Path.Combine(Path.GetTempPath(), "mlx-manager-tests", "downloads-hub-" + Guid.NewGuid().ToString("N"));
        var repos = HubRootWriter.WriteAll(root, [Sharded, .. Others]);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => DeleteRoot(root);
        return (root, repos.ToDictionary(r => r.Spec.RepoId));
    });

    private readonly bool _ownsHub;

    private DownloadsHost(MlxManagerFactory app, HubEmulatorHost hub, string cache, bool ownsHub)
    {
        App = app;
        Hub = hub;
        HubCache = cache;
        _ownsHub = ownsHub;
    }

    public MlxManagerFactory App { get; }

    public HubEmulatorHost Hub { get; }

    public string HubCache { get; }

    public static IReadOnlyDictionary<string, WrittenRepo> Repos => SharedRoot.Value.Repos;

    /// <summary>The emulator root holding <see cref="Sharded"/> and <see cref="Others"/>.</summary>
    public static string HubRoot => SharedRoot.Value.Root;

    /// <summary>Starts an app (and an emulator unless <paramref name="hub"/> is given); <paramref name="folder"/> reuses a data folder (a restart).</summary>
    public static async Task<DownloadsHost> StartAsync(Action<MlxManagerFactory>? configure = null, TestDataFolder? folder = null, HubEmulatorHost? hub = null)
    {
        var ownsHub = hub is null;
        hub ??= await HubEmulatorHost.StartAsync(new HubEmulatorOptions { Root = SharedRoot.Value.Root, Token = HubToken });
        var app = folder is null ? new MlxManagerFactory() : MlxManagerFactory.OnFolder(folder);
        var cache = Path.Combine(app.DataFolder.Path, "hf-cache");
        Directory.CreateDirectory(cache);
        Configure(app, hub, cache);
        configure?.Invoke(app);
        return new DownloadsHost(app, hub, cache, ownsHub);
    }

    public static void Configure(MlxManagerFactory app, HubEmulatorHost hub, string cache)
    {
        app.UseHuggingFace(hub.BaseUrl, cache);
        app.Settings["MlxManager:Hub:MaxAttempts"] = "2";
        app.Settings["MlxManager:Hub:RetryBaseDelay"] = "00:00:00.020";
        app.Settings["MlxManager:Library:ChangeCheckInterval"] = "00:00:00";
        app.Settings["MlxManager:Downloads:ProgressInterval"] = "00:00:00.200";
        app.Settings["MlxManager:Downloads:RetryBaseDelay"] = "00:00:00.050";
        app.Settings["MlxManager:Downloads:RetryMaxDelay"] = "00:00:00.500";
    }

    /// <summary>A signed-in browser-like client (admin or ordinary user).</summary>
    public async Task<AppClient> SignInAsync(string email = AdminEmail, bool admin = true)
    {
        await App.CreateUserAsync(email, admin: admin);
        var client = App.CreateAppClient();
        await client.SignInAsync(email);
        return client;
    }

    /// <summary>Presses a tile's Download button as htmx does.</summary>
    public static Task<HttpResponseMessage> PressDownloadAsync(AppClient client, string repoId) =>
        client.HtmxPostAsync("/models?handler=Download&repoId=" + Uri.EscapeDataString(repoId), "/models?tab=local");

    /// <summary>Starts (or joins) a download as the Models page's Download button does; returns the record.</summary>
    public async Task<Download> StartAsync(AppClient client, string repoId)
    {
        var response = await PressDownloadAsync(client, repoId);
        response.StatusCode.ShouldBe(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        return await RecordOfAsync(repoId);
    }

    /// <summary>A bearer token for <paramref name="email"/>.</summary>
    public async Task<HttpClient> ApiClientAsync(string email = AdminEmail)
    {
        var http = App.CreateClient();
        var response = await http.PostAsJsonAsync("/api/auth/token", new { email, password = TestPasswords.Default });
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        var token = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("access_token").GetString();
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        return http;
    }

    public Task<Download> RecordOfAsync(string repoId) =>
        App.WithScopeAsync(services => services.GetRequiredService<AppDbContext>().Downloads.AsNoTracking()
            .Where(d => d.RepoId == repoId).OrderByDescending(d => d.Id).FirstAsync());

    public Task<Download> RecordAsync(int id) =>
        App.WithScopeAsync(services => services.GetRequiredService<AppDbContext>().Downloads.AsNoTracking().FirstAsync(d => d.Id == id));

    public Task<int> RecordCountAsync(string repoId) =>
        App.WithScopeAsync(services => services.GetRequiredService<AppDbContext>().Downloads.CountAsync(d => d.RepoId == repoId));

    /// <summary>Waits until the record satisfies <paramref name="condition"/>; returns it.</summary>
    public Task<Download> WaitForAsync(int id, Func<Download, bool> condition, TimeSpan? timeout = null, string? because = null) =>
        Eventually.ValueAsync(() => RecordAsync(id), condition, timeout ?? TimeSpan.FromSeconds(60), because ?? "download condition",
            record => $"{record.State} ({record.CompletedBytes}/{record.TotalBytes}) error: {record.Error}");

    public Task<Download> WaitForStateAsync(int id, DownloadState state, TimeSpan? timeout = null) =>
        WaitForAsync(id, d => d.State == state, timeout, $"state {state}");

    /// <summary>Every Hangfire job (any state) that runs download <paramref name="id"/>.</summary>
    public IReadOnlyList<string> JobsOf(int id)
    {
        var monitoring = App.Services.GetRequiredService<JobStorage>().GetMonitoringApi();
        bool Mine(Job? job) => job?.Type == typeof(DownloadJob) && job.Args.Count > 0 && job.Args[0] is int arg && arg == id;
        var ids = new List<string>();
        ids.AddRange(monitoring.SucceededJobs(0, 1000).Where(j => Mine(j.Value?.Job)).Select(j => j.Key));
        ids.AddRange(monitoring.ProcessingJobs(0, 1000).Where(j => Mine(j.Value?.Job)).Select(j => j.Key));
        ids.AddRange(monitoring.FailedJobs(0, 1000).Where(j => Mine(j.Value?.Job)).Select(j => j.Key));
        ids.AddRange(monitoring.DeletedJobs(0, 1000).Where(j => Mine(j.Value?.Job)).Select(j => j.Key));
        foreach (var queue in monitoring.Queues())
        {
            ids.AddRange(monitoring.EnqueuedJobs(queue.Name, 0, 1000).Where(j => Mine(j.Value?.Job)).Select(j => j.Key));
        }

        return ids.Distinct().ToList();
    }

    /// <summary>
    /// <see cref="JobsOf"/> once <paramref name="jobId"/> has succeeded: the record is final a moment before Hangfire
    /// files its job as succeeded, and the storage's monitoring lists can miss a job in between.
    /// </summary>
    public async Task<IReadOnlyList<string>> SettledJobsOfAsync(int id, string jobId)
    {
        await Eventually.WaitUntilAsync(() => JobStateOf(jobId) == SucceededState.StateName, TimeSpan.FromSeconds(30), $"job {jobId} succeeded");
        return JobsOf(id);
    }

    /// <summary>The current Hangfire state of job <paramref name="jobId"/>.</summary>
    public string? JobStateOf(string jobId)
    {
        using var connection = App.Services.GetRequiredService<JobStorage>().GetConnection();
        return connection.GetJobData(jobId)?.State;
    }

    public HfCacheRepo Cache(string repoId) => new(HubCache, repoId);

    /// <summary>Partial files now in the repo's blobs folder: ETag → length.</summary>
    public Dictionary<string, long> Partials(string repoId) => PartialsIn(HubCache, repoId);

    /// <summary>Partial files in the repo's blobs folder of the cache at <paramref name="hubCache"/>.</summary>
    public static Dictionary<string, long> PartialsIn(string hubCache, string repoId)
    {
        var blobs = new HfCacheRepo(hubCache, repoId).BlobsFolder;
        return Directory.Exists(blobs)
            ? Directory.EnumerateFiles(blobs, "*" + HfCacheRepo.IncompleteSuffix).ToDictionary(f => Path.GetFileName(f)[..^HfCacheRepo.IncompleteSuffix.Length], f => new FileInfo(f).Length)
            : [];
    }

    /// <summary>
    /// Checks that every file left partial (ETag → bytes on disk) was continued from its byte count, not from zero: one
    /// request with <c>Range: bytes=&lt;n&gt;-</c> (on the CDN for LFS files, the Hub's resolve URL for the others), or
    /// none when every byte had already arrived. Only requests that arrived after <paramref name="since"/> count: the
    /// emulator logs a request when its response ends, which for a transfer the stopped run abandoned can be a moment
    /// after the stop.
    /// </summary>
    public static async Task ShouldHaveResumedAsync(HubEmulatorHost hub, string repoId, IReadOnlyDictionary<string, long> partials, DateTimeOffset since)
    {
        var repo = Repos[repoId];
        partials.ShouldContain(p => p.Value > 0 && p.Value < repo.Files.First(f => f.Etag == p.Key).Size, "some file was cut mid-way");
        foreach (var (etag, length) in partials)
        {
            var file = repo.Files.First(f => f.Etag == etag);
            var path = file.IsLfs ? $"/cdn/repos/{etag}" : $"/{repoId}/resolve/{repo.Commit}/{file.Path}";
            bool Matches(RecordedRequest r) => r.Method == "GET" && r.Path == path && r.Time - TimeSpan.FromMilliseconds(r.DurationMs) >= since;
            if (length == file.Size)
            {
                hub.Requests.Entries.Where(Matches).ShouldBeEmpty($"{file.Path} was complete on disk");
                continue;
            }

            // The download can report completion a moment before the emulator has logged the response's end.
            await hub.Requests.WaitForCountAsync(Matches, 1, TimeSpan.FromSeconds(10));
            var requests = hub.Requests.Entries.Where(Matches).ToList();
            requests.Count.ShouldBe(1, $"{file.Path} fetched once more");
            requests[0].Range.ShouldBe($"bytes={length}-", $"{file.Path} continued from the partial file, not from zero");
        }
    }

    /// <summary>Checks the finished download: every blob hashes to its ETag and refs/main names the commit.</summary>
    public void ShouldBeCompleteInTheCache(string repoId)
    {
        var repo = Repos[repoId];
        var cache = Cache(repoId);
        foreach (var file in repo.Files)
        {
            var blob = cache.BlobPath(file.Etag);
            File.Exists(blob).ShouldBeTrue(file.Path);
            (file.IsLfs ? GitObjects.Sha256(blob) : GitObjects.GitBlobSha1(blob)).ShouldBe(file.Etag, file.Path);
        }

        File.ReadAllText(Path.Combine(cache.Folder, "refs", "main")).ShouldBe(repo.Commit);
        Partials(repoId).ShouldBeEmpty();
    }

    private static void DeleteRoot(string root)
    {
        try
        {
            Directory.Delete(root, recursive: true);
        }
        catch (IOException exception)
        {
            // The test run is ending; the OS temp cleaner gets what is left.
            Console.Error.WriteLine($"Could not delete the test Hub root {root}: {exception.Message}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        await App.DisposeAsync();
        if (_ownsHub)
        {
            await Hub.DisposeAsync();
        }
    }
}
