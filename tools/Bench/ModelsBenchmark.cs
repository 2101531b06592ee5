using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using MlxManager.Core.Accounts;
using MlxManager.Core.Data;
using Microsoft.EntityFrameworkCore;
using MlxManager.Core.Discovery.Jobs;
using MlxManager.Core.Library;
using MlxManager.ModelFixtures;

namespace MlxManager.Bench;

/// <summary>
/// The local tab with many models in the HF cache against the same page with a few, in one run: the real app
/// in-process (WebApplicationFactory, real SQLite, real Hangfire), a temp HF cache of tiny fixture repos (one
/// 64 KiB-weights fixture copied under N names, so they write in seconds), detection finished and cached before timing.
/// Also reports what the library's cached scan holds in memory: the managed heap after a full collection, with the
/// scan cached and after <see cref="ModelLibrary.Invalidate"/>.
/// </summary>
public static partial class ModelsBenchmark
{
    public static async Task<int> RunAsync(string[] args)
    {
        var many = Option(args, "--models", 5000);
        var few = Option(args, "--baseline", 10);
        var renders = Option(args, "--renders", 100);
        var root = Path.Combine(Path.GetTempPath(), "mlx-manager-bench-" + Guid.NewGuid().ToString("N"));
        try
        {
            var blobs = StageBlobs(Path.Combine(root, "staging"));
            var watch = Stopwatch.StartNew();
            WriteCache(Path.Combine(root, "cache-many"), blobs, many);
            WriteCache(Path.Combine(root, "cache-few"), blobs, few);
            Console.WriteLine($"wrote {many} + {few} cached models in {watch.ElapsedMilliseconds} ms");

            await using var manyApp = await BenchApp.StartAsync(Path.Combine(root, "data-many"), Path.Combine(root, "cache-many"));
            await using var fewApp = await BenchApp.StartAsync(Path.Combine(root, "data-few"), Path.Combine(root, "cache-few"));
            await fewApp.WaitForDetectionAsync(few);
            // Detecting thousands of identical copies one job at a time would take the better part of an hour on a
            // small machine and measure nothing about the page: their (identical) result is copied in instead.
            await manyApp.SeedDetectionsAsync(fewApp, Path.Combine(root, "cache-many"), many);
            await manyApp.WaitForDetectionAsync(many);

            // Interleaved, so both pages see the same load on a shared machine.
            await manyApp.WarmUpAsync(Math.Max(10, renders / 2));
            await fewApp.WarmUpAsync(Math.Max(10, renders / 2));
            var manyTimes = new List<double>(renders);
            var fewTimes = new List<double>(renders);
            for (var i = 0; i < renders; i++)
            {
                manyTimes.Add(await manyApp.TimeRenderAsync());
                fewTimes.Add(await fewApp.TimeRenderAsync());
            }
            var manyMedian = Median(manyTimes);
            var fewMedian = Median(fewTimes);
            var ratio = manyMedian / fewMedian;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"/models?tab=local, {renders} renders each, interleaved, after warm-up, detection cached"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {many,4} models: median {manyMedian,7:0.00} ms  (p90 {Percentile(manyTimes, 0.9):0.00} ms, {manyApp.LastBytes / 1024} KiB)"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {few,4} models: median {fewMedian,7:0.00} ms  (p90 {Percentile(fewTimes, 0.9):0.00} ms, {fewApp.LastBytes / 1024} KiB)"));
            // Both pages render what a user sees first: every tile up to one page (48), "show more" for the rest. So the
            // ratio holds the cost of the larger library and of the extra tiles up to a page.
            Console.WriteLine($"  tiles rendered: {manyApp.LastTiles} of {many} (one page) vs {fewApp.LastTiles} of {few}");
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  ratio {ratio:0.00}x (target < 3x); spread: many p10–p90 {Percentile(manyTimes, 0.1):0.00}–{Percentile(manyTimes, 0.9):0.00} ms, few {Percentile(fewTimes, 0.1):0.00}–{Percentile(fewTimes, 0.9):0.00} ms"));
            var manyMemory = manyApp.LibraryCacheBytes();
            var fewMemory = fewApp.LibraryCacheBytes();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"library cache in memory: {many} models {manyMemory / 1048576.0:0.00} MiB ({manyMemory / many / 1024.0:0.0} KiB per model), {few} models {fewMemory / 1024.0:0} KiB"));
            Console.WriteLine(ratio < 3 ? "targets met" : $"targets missed: local tab render < 3x ({ratio:0.00}x)");
            return ratio < 3 ? 0 : 1;
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            if (Directory.Exists(root))
            {
                Directory.Delete(root, recursive: true);
            }
        }
    }

    private static int Option(string[] args, string name, int fallback)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length && int.TryParse(args[index + 1], CultureInfo.InvariantCulture, out var value) && value > 0 ? value : fallback;
    }

    private static double Median(List<double> values) => Percentile(values, 0.5);

    private static double Percentile(List<double> values, double p)
    {
        var sorted = values.Order().ToList();
        return sorted[(int)Math.Clamp(Math.Round(p * (sorted.Count - 1)), 0, sorted.Count - 1)];
    }

    /// <summary>One tiny, well-formed fixture (Qwen3 style, 64 KiB of weights) written once; its files become shared blobs.</summary>
    internal static WrittenRepo StageBlobs(string folder)
    {
        var spec = FixtureCatalog.Sized(FixtureCatalog.QwenThinking, 64 * 1024);
        return RepoWriter.Write(folder, spec);
    }

    // The standard layout per repo: blobs/<etag>, relative snapshot links, refs/main.
    internal static void WriteCache(string cache, WrittenRepo staged, int count)
    {
        for (var i = 0; i < count; i++)
        {
            var repo = Path.Combine(cache, $"models--bench-org--Model-{i:0000}-4bit");
            var blobs = Directory.CreateDirectory(Path.Combine(repo, "blobs")).FullName;
            var snapshot = Directory.CreateDirectory(Path.Combine(repo, "snapshots", staged.Commit)).FullName;
            foreach (var file in staged.Files)
            {
                var blob = Path.Combine(blobs, file.Etag);
                File.Copy(Path.Combine(staged.Folder, file.Path), blob);
                var link = Path.Combine(snapshot, file.Path);
                Directory.CreateDirectory(Path.GetDirectoryName(link)!);
                File.CreateSymbolicLink(link, Path.GetRelativePath(Path.GetDirectoryName(link)!, blob));
            }

            Directory.CreateDirectory(Path.Combine(repo, "refs"));
            File.WriteAllText(Path.Combine(repo, "refs", "main"), staged.Commit);
        }
    }

    private sealed partial class BenchApp : WebApplicationFactory<MlxManager.Web.WebAppAssembly>
    {
        private readonly string _data;
        private readonly string _cache;
        private HttpClient _client = null!;

        private BenchApp(string data, string cache)
        {
            _data = data;
            _cache = cache;
        }

        private byte[] _lastBody = [];

        public long LastBytes => _lastBody.LongLength;

        /// <summary>Tiles in the last page rendered (counted after timing).</summary>
        public int LastTiles => TilePattern().Count(System.Text.Encoding.UTF8.GetString(_lastBody));

        public static async Task<BenchApp> StartAsync(string data, string cache)
        {
            Directory.CreateDirectory(data);

            // WebApplicationFactory looks for MvcTestingAppManifest.json (the app's content root) in the current
            // folder only; the benchmark is started from anywhere, so point it at its own output folder.
            Directory.SetCurrentDirectory(AppContext.BaseDirectory);
            var app = new BenchApp(data, cache);
            app._client = app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });
            await app.SignInAsync();
            return app;
        }

        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            builder.UseSetting(DataDirectory.CommandLineKey, _data);
            builder.UseSetting("MlxManager:HuggingFace:HubCache", _cache);
            builder.UseSetting("MlxManager:HuggingFace:Offline", "true");
            builder.UseSetting("MlxManager:RateLimits:SignIn:PermitLimit", "1000");
            builder.ConfigureLogging(logging => logging.SetMinimumLevel(LogLevel.Warning));
        }

        public async Task WaitForDetectionAsync(int expected)
        {
            var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(5);
            while (true)
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, "/models?tab=local&poll=1");
                request.Headers.Add("HX-Request", "true");
                var html = await (await _client.SendAsync(request)).Content.ReadAsStringAsync();
                var tiles = TilePattern().Count(html);
                if (html.Contains($">{expected} models on this machine<", StringComparison.Ordinal) && !html.Contains("data-polling=\"true\"", StringComparison.Ordinal))
                {
                    return;
                }

                if (DateTime.UtcNow > deadline)
                {
                    throw new TimeoutException($"detection of {expected} models did not finish ({tiles} tiles shown)");
                }

                await Task.Delay(250);
            }
        }

        /// <summary>Stores <paramref name="source"/>'s finished detection of the fixture as the result of all <paramref name="count"/> copies.</summary>
        public async Task SeedDetectionsAsync(BenchApp source, string cache, int count)
        {
            ModelDetection template;
            await using (var scope = source.Services.CreateAsyncScope())
            {
                template = await scope.ServiceProvider.GetRequiredService<AppDbContext>().ModelDetections.AsNoTracking().FirstAsync(d => d.State == DetectionState.Done);
            }

            await using var target = Services.CreateAsyncScope();
            var db = target.ServiceProvider.GetRequiredService<AppDbContext>();
            for (var i = 0; i < count; i++)
            {
                var folder = $"models--bench-org--Model-{i:0000}-4bit";
                db.ModelDetections.Add(new ModelDetection
                {
                    RepoId = $"bench-org/Model-{i:0000}-4bit",
                    Commit = template.Commit,
                    Source = template.Source,
                    LocalPath = Path.Combine(cache, folder, "snapshots", template.Commit),
                    State = DetectionState.Done,
                    DetectorVersion = template.DetectorVersion,
                    CharacteristicsJson = template.CharacteristicsJson,
                    Attempts = template.Attempts,
                    QueuedAtUtc = template.QueuedAtUtc,
                    StartedAtUtc = template.StartedAtUtc,
                    FinishedAtUtc = template.FinishedAtUtc,
                });
            }

            await db.SaveChangesAsync();
        }

        /// <summary>Managed memory the library's cached scan holds: heap with it, minus heap without it (then scanned again).</summary>
        public long LibraryCacheBytes()
        {
            var library = Services.GetRequiredService<ModelLibrary>();
            library.GetModels();
            var with = GC.GetTotalMemory(forceFullCollection: true);
            library.Invalidate();
            var without = GC.GetTotalMemory(forceFullCollection: true);
            library.GetModels();
            return with - without;
        }

        public async Task WarmUpAsync(int count)
        {
            for (var i = 0; i < count; i++)
            {
                await RenderAsync();
            }
        }

        /// <summary>One full page render, as a browser opening the URL, in milliseconds (in-memory transport: server time).</summary>
        public async Task<double> TimeRenderAsync()
        {
            var watch = Stopwatch.StartNew();
            await RenderAsync();
            return watch.Elapsed.TotalMilliseconds;
        }

        private async Task RenderAsync()
        {
            using var response = await _client.GetAsync("/models?tab=local");
            if (response.StatusCode != HttpStatusCode.OK)
            {
                throw new InvalidOperationException($"/models?tab=local answered {(int)response.StatusCode}");
            }

            _lastBody = await response.Content.ReadAsByteArrayAsync();
        }

        private async Task SignInAsync()
        {
            const string email = "bench@example.com", password = "a bench password 123";
            await using (var scope = Services.CreateAsyncScope())
            {
                var users = scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>();
                var user = new AppUser { UserName = email, Email = email, Status = UserStatus.Active, CreatedAtUtc = DateTime.UtcNow };
                var created = await users.CreateAsync(user, password);
                if (!created.Succeeded)
                {
                    throw new InvalidOperationException(string.Join("; ", created.Errors.Select(e => e.Description)));
                }
            }

            var login = await _client.GetStringAsync("/login");
            var token = WebUtility.HtmlDecode(TokenPattern().Match(login).Groups[1].Value);
            var response = await _client.PostAsync("/login", new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["Input.Email"] = email,
                ["Input.Password"] = password,
                ["__RequestVerificationToken"] = token,
            }));
            if (response.StatusCode != HttpStatusCode.Redirect)
            {
                throw new InvalidOperationException($"sign-in failed: HTTP {(int)response.StatusCode}");
            }
        }

        [GeneratedRegex("<input[^>]*name=\"__RequestVerificationToken\"[^>]*value=\"([^\"]+)\"")]
        private static partial Regex TokenPattern();

        [GeneratedRegex("data-testid=\"model-tile\"")]
        private static partial Regex TilePattern();
    }
}
