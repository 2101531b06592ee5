using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using Hangfire.Common;
using Hangfire.Storage.SQLite;
using Microsoft.EntityFrameworkCore;
using MlxManager.Core.Data;
using MlxManager.Core.Downloads;
using MlxManager.HubEmulator;
using MlxManager.Web.Tests.Infrastructure;
using Xunit.Abstractions;

namespace MlxManager.Web.Tests.Downloads;

/// <summary>
/// The real app as a separate process (the built MlxManager.Web.dll with <c>--data</c> and <c>HF_ENDPOINT</c> pointing at
/// an in-process HubEmulator), killed hard (SIGKILL, whole tree) in the middle of a download and started again.
/// </summary>
public sealed class KilledAppTests(ITestOutputHelper output)
{
    private static readonly string Sharded = DownloadsHost.Sharded.RepoId;

    [Fact]
    public async Task KilledMidDownload_TheNextStartFinishesIt_FromThePartialBytes_WithOneRecordAndOneJob()
    {
        using var folder = new TestDataFolder();
        var cache = Path.Combine(folder.Path, "hf-cache");
        await using var hub = await HubEmulatorHost.StartAsync(new HubEmulatorOptions { Root = DownloadsHost.HubRoot, Token = DownloadsHost.HubToken });
        hub.Faults.Throttle(1_500_000);
        var port = FreePort();
        int id;
        string token;
        Dictionary<string, long> partials;

        await using (var first = AppProcess.Start(folder.Path, cache, hub.BaseUrl, port, output))
        {
            using var http = await first.WaitUntilReadyAsync();
            token = await RegisterAdminAsync(http);
            http.DefaultRequestHeaders.Authorization = new("Bearer", token);
            var started = await http.PostAsJsonAsync("/api/downloads", new { repoId = Sharded });
            started.StatusCode.ShouldBe(HttpStatusCode.Accepted, await started.Content.ReadAsStringAsync());
            id = (await started.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("download").GetProperty("id").GetInt32();
            await PollAsync(http, id, d => d.GetProperty("completedBytes").GetInt64() > 3_000_000);

            first.KillHard();
        }

        partials = DownloadsHost.PartialsIn(cache, Sharded);
        partials.ShouldNotBeEmpty("the killed run left partial files");
        partials.Values.Sum().ShouldBeGreaterThan(1_000_000);
        var killed = await ReadRecordAsync(folder.Path, id);
        killed.State.ShouldBe(DownloadState.Downloading);
        killed.LeaseOwner.ShouldNotBeNull("the dead process never gave its lease back");
        hub.Faults.Reset();
        var restartedAt = DateTimeOffset.UtcNow;

        await using (var second = AppProcess.Start(folder.Path, cache, hub.BaseUrl, port, output))
        {
            using var http = await second.WaitUntilReadyAsync();
            http.DefaultRequestHeaders.Authorization = new("Bearer", token);
            var done = await PollAsync(http, id, d => d.GetProperty("state").GetString() is "Completed" or "Failed");
            done.GetProperty("state").GetString().ShouldBe("Completed", done.ToString());
            second.KillHard();
        }

        await DownloadsHost.ShouldHaveResumedAsync(hub, Sharded, partials, restartedAt);

        var repo = DownloadsHost.Repos[Sharded];
        foreach (var file in repo.Files)
        {
            var blob = Path.Combine(cache, "models--" + Sharded.Replace("/", "--", StringComparison.Ordinal), "blobs", file.Etag);
            (file.IsLfs ? ModelFixtures.GitObjects.Sha256(blob) : ModelFixtures.GitObjects.GitBlobSha1(blob)).ShouldBe(file.Etag, file.Path);
        }

        DownloadsHost.PartialsIn(cache, Sharded).ShouldBeEmpty();
        var record = await ReadRecordAsync(folder.Path, id);
        (await CountRecordsAsync(folder.Path, Sharded)).ShouldBe(1, "one record");
        record.Runs.ShouldBe(2);
        DownloadJobs(folder.Path, id).ShouldBe([record.JobId!], "one job, run again after the restart");
    }

    private static async Task<string> RegisterAdminAsync(HttpClient http)
    {
        using var browser = new AppClient(new HttpClient(new HttpClientHandler { UseCookies = true, AllowAutoRedirect = false }) { BaseAddress = http.BaseAddress });
        (await browser.RegisterAsync(DownloadsHost.AdminEmail)).StatusCode.ShouldBe(HttpStatusCode.Redirect, "the first account is the admin");
        var response = await http.PostAsJsonAsync("/api/auth/token", new { email = DownloadsHost.AdminEmail, password = TestPasswords.Default });
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("access_token").GetString()!;
    }

    private static Task<JsonElement> PollAsync(HttpClient http, int id, Func<JsonElement, bool> condition) =>
        Eventually.ValueAsync(() => http.GetFromJsonAsync<JsonElement>($"/api/downloads/{id}"), condition, TimeSpan.FromSeconds(90), $"download {id} reaches the state");

    private static AppDbContext Database(string dataFolder) =>
        new(new DbContextOptionsBuilder<AppDbContext>().UseSqlite(SqliteDatabase.ConnectionString(Path.Combine(dataFolder, "app.db"))).Options);

    private static async Task<Download> ReadRecordAsync(string dataFolder, int id)
    {
        await using var db = Database(dataFolder);
        return await db.Downloads.AsNoTracking().FirstAsync(d => d.Id == id);
    }

    private static async Task<int> CountRecordsAsync(string dataFolder, string repoId)
    {
        await using var db = Database(dataFolder);
        return await db.Downloads.CountAsync(d => d.RepoId == repoId);
    }

    private static List<string> DownloadJobs(string dataFolder, int id)
    {
        using var storage = new SQLiteStorage(Path.Combine(dataFolder, "jobs.db"), new SQLiteStorageOptions());
        var monitoring = storage.GetMonitoringApi();
        bool Mine(Job? job) => job?.Type == typeof(DownloadJob) && job.Args.Count > 0 && job.Args[0] is int arg && arg == id;
        var ids = new List<string>();
        ids.AddRange(monitoring.SucceededJobs(0, 1000).Where(j => Mine(j.Value?.Job)).Select(j => j.Key));
        ids.AddRange(monitoring.ProcessingJobs(0, 1000).Where(j => Mine(j.Value?.Job)).Select(j => j.Key));
        ids.AddRange(monitoring.FailedJobs(0, 1000).Where(j => Mine(j.Value?.Job)).Select(j => j.Key));
        foreach (var queue in monitoring.Queues())
        {
            ids.AddRange(monitoring.EnqueuedJobs(queue.Name, 0, 1000).Where(j => Mine(j.Value?.Job)).Select(j => j.Key));
        }

        return ids.Distinct().ToList();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>The built app running as a child process; its output goes to the test log.</summary>
    private sealed class AppProcess : IAsyncDisposable
    {
        private readonly Process _process;
        private readonly ITestOutputHelper _output;

        private AppProcess(Process process, string url, ITestOutputHelper output)
        {
            _process = process;
            Url = url;
            _output = output;
        }

        public string Url { get; }

        public static AppProcess Start(string dataFolder, string cache, string hubUrl, int port, ITestOutputHelper output)
        {
            var url = $"http://127.0.0.1:{port}";
            var start = new ProcessStartInfo("dotnet")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
                WorkingDirectory = Path.GetDirectoryName(WebDll())!,
            };
            foreach (var argument in new[] { WebDll(), "--data", dataFolder, "--urls", url })
            {
                start.ArgumentList.Add(argument);
            }

            foreach (var name in new[] { "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_HUB_OFFLINE", "MLXMANAGER_DATA", "ASPNETCORE_URLS", "ASPNETCORE_ENVIRONMENT", "DOTNET_ENVIRONMENT" })
            {
                start.Environment.Remove(name);
            }

            start.Environment["HF_ENDPOINT"] = hubUrl;
            start.Environment["HF_HUB_CACHE"] = cache;
            start.Environment["HF_HOME"] = Path.Combine(dataFolder, "hf-home");
            start.Environment["MlxManager__Downloads__ProgressInterval"] = "00:00:00.200";
            start.Environment["MlxManager__RateLimits__SignIn__PermitLimit"] = "1000";
            var process = Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start");
            process.OutputDataReceived += (_, line) => Write(output, line.Data);
            process.ErrorDataReceived += (_, line) => Write(output, line.Data);
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            return new AppProcess(process, url, output);
        }

        /// <summary>An HTTP client once the app answers.</summary>
        public async Task<HttpClient> WaitUntilReadyAsync()
        {
            var http = new HttpClient { BaseAddress = new Uri(Url), Timeout = TimeSpan.FromSeconds(30) };
            await Eventually.WaitUntilAsync(async () =>
            {
                _process.HasExited.ShouldBeFalse($"the app exited with {(_process.HasExited ? _process.ExitCode : 0)}");
                try
                {
                    return (await http.GetAsync("/login")).StatusCode == HttpStatusCode.OK;
                }
                catch (HttpRequestException exception)
                {
                    // Not listening yet.
                    _output.WriteLine($"waiting for the app: {exception.Message}");
                    return false;
                }
            }, TimeSpan.FromSeconds(90), "the app starts");
            return http;
        }

        /// <summary>SIGKILL to the app and anything it started: no shutdown code runs.</summary>
        public void KillHard()
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }

            _process.WaitForExit(10_000).ShouldBeTrue("the app died");
        }

        public ValueTask DisposeAsync()
        {
            KillHard();
            _process.Dispose();
            return ValueTask.CompletedTask;
        }

        private static string WebDll()
        {
            // The web project's own build output, in the configuration these tests were built in.
            var testBin = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
            var configuration = testBin.Parent!.Name;
            var root = testBin;
            while (root is not null && !File.Exists(Path.Combine(root.FullName, "MlxManager.sln")))
            {
                root = root.Parent;
            }

            var built = root is null ? null : Path.Combine(root.FullName, "src", "MlxManager.Web", "bin", configuration, testBin.Name, "MlxManager.Web.dll");
            return built is not null && File.Exists(built) ? built : Path.Combine(AppContext.BaseDirectory, "MlxManager.Web.dll");
        }

        private static void Write(ITestOutputHelper output, string? line)
        {
            if (line is null)
            {
                return;
            }

            try
            {
                output.WriteLine("app: " + line);
            }
            catch (InvalidOperationException)
            {
                // The test finished while the process was still writing: nobody reads this line any more.
                Console.Error.WriteLine("app (after the test): " + line);
            }
        }
    }
}
