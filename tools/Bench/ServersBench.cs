using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using MlxManager.EngineEmulator.Installation;
using MlxManager.ModelFixtures;

namespace MlxManager.Bench;

/// <summary>
/// <c>servers</c>: runs the real manager as its own process on a fresh data folder, with the EngineEmulator installed
/// as the engines and the fixture models in an HF cache, and measures
/// (1) the manager's own CPU (its process's user+system time over wall time, % of one core) with no server and then
///     with N servers running and sampled — the cost of supervising and measuring them;
/// (2) the latency of the server-tiles fragment (<c>/servers?handler=Live</c>, what each page fetches on every tick)
///     under C concurrent clients, against a static file of the same app in the same run.
/// </summary>
public static partial class ServersBench
{
    private static readonly (string Model, string Engine)[] Mix =
    [
        (FixtureCatalog.QwenThinking.RepoId, "mlx_lm.server"),
        (FixtureCatalog.LlamaTools.RepoId, "mlx_lm.server"),
        (FixtureCatalog.Phi8Bit.RepoId, "mlx_lm.server"),
        (FixtureCatalog.DeepSeekR1.RepoId, "mlx_lm.server"),
        (FixtureCatalog.GemmaVision.RepoId, "mlx_vlm.server"),
        (FixtureCatalog.QwenVision.RepoId, "mlx_vlm.server"),
        (FixtureCatalog.InlineThinking.RepoId, "mlx-openai-server"),
        (FixtureCatalog.QwenThinking.RepoId, "mlx-openai-server"),
    ];

    public static async Task<int> RunAsync(string[] args)
    {
        var servers = Option(args, "--servers", 8);
        var idleSeconds = Option(args, "--idle-seconds", 30);
        var busySeconds = Option(args, "--busy-seconds", 45);
        var clients = Option(args, "--clients", 20);
        var loadSeconds = Option(args, "--load-seconds", 15);
        var settleSeconds = Option(args, "--settle-seconds", 15);
        var root = Directory.CreateTempSubdirectory("mlxm-bench-servers-").FullName;
        Process? manager = null;
        try
        {
            Console.WriteLine($"Setting up in {root}: launchers, fixture HF cache, data folder…");
            var launchers = Path.Combine(root, "bin");
            LauncherInstaller.Install(launchers, LauncherKind.Exec, typeof(LauncherInstaller).Assembly.Location);
            var cache = Path.Combine(root, "hf", "hub");
            Directory.CreateDirectory(cache);
            foreach (var spec in FixtureCatalog.Small)
            {
                HfCacheWriter.Write(cache, spec);
            }

            var port = FreePort();
            var baseUrl = new Uri($"http://127.0.0.1:{port}/");
            manager = StartManager(root, launchers, cache, port);
            using var client = new ManagerClient(baseUrl);
            await client.WaitUntilUpAsync(manager);
            await client.RegisterAndSignInAsync("bench@example.com", "a long enough password");

            var ticks = TicksPerSecond();
            Console.WriteLine($"Manager pid {manager.Id} on {baseUrl}; {Environment.ProcessorCount} cores; clock {ticks} ticks/s.");
            await Task.Delay(TimeSpan.FromSeconds(settleSeconds)); // let start-up work (migrations, JIT tiering, Hangfire) settle
            var idle = await MeasureCpuAsync(manager.Id, TimeSpan.FromSeconds(idleSeconds), ticks);
            Console.WriteLine($"Manager CPU with no server:        {idle:0.00} % of a core over {idleSeconds} s");

            for (var i = 0; i < servers; i++)
            {
                var (model, engine) = Mix[i % Mix.Length];
                var id = await client.CreateProfileAsync($"bench-{i + 1}", model, engine, FreePort());
                await client.StartAsync(id);
            }

            var clock = Stopwatch.StartNew();
            await client.WaitForReadyAsync(servers, TimeSpan.FromMinutes(3));
            Console.WriteLine($"{servers} servers ready after {clock.Elapsed.TotalSeconds:0.0} s.");
            await Task.Delay(TimeSpan.FromSeconds(settleSeconds));
            var busy = await MeasureCpuAsync(manager.Id, TimeSpan.FromSeconds(busySeconds), ticks);
            Console.WriteLine($"Manager CPU with {servers} servers sampled:  {busy:0.00} % of a core over {busySeconds} s (target < 2 %); {busy - idle:+0.00;-0.00} points for supervising and sampling them");

            var live = new Uri(baseUrl, "servers?handler=Live");
            var file = new Uri(baseUrl, "css/site.css");
            await client.LoadAsync(file, clients, TimeSpan.FromSeconds(2)); // warm-up of both paths
            await client.LoadAsync(live, clients, TimeSpan.FromSeconds(2));
            var single = await client.LoadAsync(live, 1, TimeSpan.FromSeconds(loadSeconds / 3.0));
            var singleBaseline = await client.LoadAsync(file, 1, TimeSpan.FromSeconds(loadSeconds / 3.0));
            var fragment = await client.LoadAsync(live, clients, TimeSpan.FromSeconds(loadSeconds));
            var baseline = await client.LoadAsync(file, clients, TimeSpan.FromSeconds(loadSeconds));
            Console.WriteLine($"Server-tiles fragment ({fragment.Bytes / 1024.0:0.0} KiB, {servers} tiles) against a static file (site.css) of the same app:");
            Console.WriteLine($"  1 client      fragment    {single}");
            Console.WriteLine($"                static file {singleBaseline}");
            Console.WriteLine($"  {clients} clients    fragment    {fragment}");
            Console.WriteLine($"                static file {baseline}");
            Console.WriteLine($"  ratio, 1 client:   median ×{single.Median / singleBaseline.Median:0.0}, p95 ×{single.P95 / singleBaseline.P95:0.0}");
            Console.WriteLine($"  ratio, {clients} clients: median ×{fragment.Median / baseline.Median:0.0}, p95 ×{fragment.P95 / baseline.P95:0.0}, throughput ×{fragment.PerSecond / baseline.PerSecond:0.00}");
            Console.WriteLine($"  a page fetches the fragment once per tick (2 s): {clients} open pages cost ≈ {clients / 2.0 / fragment.PerSecond * 100:0.0} % of what the manager can serve");
            var missed = new List<string>();
            if (busy >= 2)
            {
                missed.Add($"manager CPU with {servers} servers < 2 % (was {busy:0.00} %)");
            }

            if (fragment.P95 >= 10)
            {
                missed.Add($"fragment p95 with {clients} clients < 10 ms (was {fragment.P95:0.00} ms)");
            }

            if (fragment.P95 > 3 * baseline.P95)
            {
                missed.Add($"fragment p95 ≤ 3× the static file's with {clients} clients (was ×{fragment.P95 / baseline.P95:0.0})");
            }

            Console.WriteLine($"Targets: fragment p95 {fragment.P95:0.00} ms < 10 ms and ≤ 3× static ({3 * baseline.P95:0.00} ms) with {clients} clients; manager CPU {busy:0.00} % < 2 %");
            Console.WriteLine(missed.Count == 0 ? "targets met" : $"targets missed: {string.Join("; ", missed)}");
            return missed.Count == 0 ? 0 : 1;
        }
        finally
        {
            if (manager is { HasExited: false })
            {
                // SIGTERM: the manager was started with StopServersOnExit, so it stops every engine on the way out.
                Signal(manager.Id, 15);
                if (!manager.WaitForExit(60_000))
                {
                    manager.Kill(entireProcessTree: true);
                }
            }

            manager?.Dispose();
            try
            {
                Directory.Delete(root, recursive: true);
            }
            catch (IOException e)
            {
                Console.Error.WriteLine($"Could not delete {root}: {e.Message}");
            }
        }
    }

    /// <summary>
    /// The built manager (its dll, not <c>dotnet run</c>; <paramref name="webDll"/> when given, e.g. a published one) as a
    /// child process on <c>{root}/data</c>.
    /// </summary>
    internal static Process StartManager(string root, string launchers, string cache, int port, string? webDll = null)
    {
        var web = webDll ?? typeof(MlxManager.Web.WebAppAssembly).Assembly.Location;
        var start = new ProcessStartInfo(LauncherInstaller.DotnetHost())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(web)!,
        };
        foreach (var argument in new[] { web, "--data", Path.Combine(root, "data"), "--urls", $"http://127.0.0.1:{port}" })
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["MlxManager__HuggingFace__HubCache"] = cache;
        foreach (var engine in new[] { "mlx_lm.server", "mlx_vlm.server", "mlx-openai-server" })
        {
            start.Environment[$"MlxManager__Engines__{engine}__Path"] = Path.Combine(launchers, engine);
        }

        start.Environment["MlxManager__Servers__StopServersOnExit"] = "true";
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is { Length: > 0 } line)
            {
                Console.Error.WriteLine("manager: " + line);
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    /// <summary>CPU used by <paramref name="pid"/> (user + system) over <paramref name="span"/>, as % of one core.</summary>
    private static async Task<double> MeasureCpuAsync(int pid, TimeSpan span, long ticksPerSecond)
    {
        var before = CpuTicks(pid);
        var clock = Stopwatch.StartNew();
        await Task.Delay(span);
        var after = CpuTicks(pid);
        return (after - before) / (double)ticksPerSecond / clock.Elapsed.TotalSeconds * 100;
    }

    private static long CpuTicks(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
    }

    private static long TicksPerSecond()
    {
        var value = Native.sysconf(2).ToInt64(); // _SC_CLK_TCK
        return value > 0 ? value : 100;
    }

    internal static void Signal(int pid, int signal) => Native.kill(pid, signal);

    private static int Option(string[] args, string name, int fallback)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length && int.TryParse(args[index + 1], CultureInfo.InvariantCulture, out var value) ? value : fallback;
    }

    internal static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static class Native
    {
        [System.Runtime.InteropServices.DllImport("libc")]
        public static extern nint sysconf(int name);

        [System.Runtime.InteropServices.DllImport("libc")]
        public static extern int kill(int pid, int signal);
    }

    /// <summary>Latencies of one load phase.</summary>
    public sealed record LoadResult(int Requests, double Median, double P95, double Max, double PerSecond, long Bytes, int Failures)
    {
        public override string ToString() =>
            string.Create(CultureInfo.InvariantCulture, $"{Requests} requests ({PerSecond:0} /s): median {Median:0.00} ms, p95 {P95:0.00} ms, max {Max:0.0} ms{(Failures > 0 ? $", {Failures} failed" : "")}");
    }

    /// <summary>A browser-like client of the manager: cookies, antiforgery tokens from its pages.</summary>
    private sealed partial class ManagerClient(Uri baseUrl) : IDisposable
    {
        private readonly HttpClient _http = new(new SocketsHttpHandler
        {
            UseCookies = true,
            CookieContainer = new CookieContainer(),
            AllowAutoRedirect = false,
            UseProxy = false,
            MaxConnectionsPerServer = 64,
        })
        { BaseAddress = baseUrl, Timeout = TimeSpan.FromSeconds(60) };

        public async Task WaitUntilUpAsync(Process manager)
        {
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed < TimeSpan.FromSeconds(60))
            {
                if (manager.HasExited)
                {
                    throw new InvalidOperationException($"The manager exited with {manager.ExitCode}.");
                }

                try
                {
                    using var response = await _http.GetAsync("login");
                    if (response.IsSuccessStatusCode)
                    {
                        return;
                    }
                }
                catch (HttpRequestException)
                {
                    // Not listening yet.
                }

                await Task.Delay(200);
            }

            throw new TimeoutException("The manager did not come up.");
        }

        public async Task RegisterAndSignInAsync(string email, string password)
        {
            await PostAsync("register", "register", new() { ["Input.Email"] = email, ["Input.Password"] = password, ["Input.ConfirmPassword"] = password });
            await PostAsync("login", "login", new() { ["Input.Email"] = email, ["Input.Password"] = password });
        }

        public async Task<int> CreateProfileAsync(string name, string model, string engine, int port)
        {
            var response = await PostAsync("profiles/new", "profiles/new", new()
            {
                ["Input.Name"] = name,
                ["Input.ModelRef"] = model,
                ["Input.Engine"] = engine,
                ["Input.Host"] = "127.0.0.1",
                ["Input.Port"] = port.ToString(CultureInfo.InvariantCulture),
                ["Input.MaxTokens"] = "16384",
                ["Input.Thinking"] = "Default",
                ["Input.EnvironmentVariables"] = "EMULATOR_LOAD_RATE=2G\nEMULATOR_TOKEN_RATE=40",
            });
            if (response.StatusCode != HttpStatusCode.Redirect)
            {
                throw new InvalidOperationException($"Profile {name} was not saved: {await response.Content.ReadAsStringAsync()}");
            }

            var list = await _http.GetStringAsync("profiles");
            var match = Regex.Match(list, $"<tr id=\"profile-row-(\\d+)\" data-testid=\"profile-row\" data-name=\"{Regex.Escape(name)}\"");
            return int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
        }

        public async Task StartAsync(int profileId)
        {
            var response = await PostAsync("servers?handler=Start", "servers", new() { ["profileId"] = profileId.ToString(CultureInfo.InvariantCulture) });
            if (!response.IsSuccessStatusCode)
            {
                throw new InvalidOperationException($"Start of profile {profileId} answered {(int)response.StatusCode}.");
            }
        }

        public async Task WaitForReadyAsync(int count, TimeSpan timeout)
        {
            var clock = Stopwatch.StartNew();
            var ready = 0;
            while (clock.Elapsed < timeout)
            {
                var live = await _http.GetStringAsync("servers?handler=Live");
                ready = Regex.Matches(live, "class=\"state-badge state-ready\"").Count;
                if (ready >= count)
                {
                    return;
                }

                if (live.Contains("state-badge state-failed", StringComparison.Ordinal))
                {
                    throw new InvalidOperationException("A server failed:\n" + live);
                }

                await Task.Delay(500);
            }

            throw new TimeoutException($"Only {ready} of {count} servers became ready.");
        }

        /// <summary><paramref name="clients"/> loops GETting <paramref name="url"/> back to back for <paramref name="span"/>.</summary>
        public async Task<LoadResult> LoadAsync(Uri url, int clients, TimeSpan span)
        {
            var latencies = new List<double>[clients];
            long bytes = 0;
            var failures = 0;
            var clock = Stopwatch.StartNew();
            await Task.WhenAll(Enumerable.Range(0, clients).Select(async c =>
            {
                var mine = latencies[c] = [];
                while (clock.Elapsed < span)
                {
                    var started = Stopwatch.GetTimestamp();
                    using var response = await _http.GetAsync(url);
                    var body = await response.Content.ReadAsByteArrayAsync();
                    mine.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                    Interlocked.Exchange(ref bytes, body.Length);
                    if (!response.IsSuccessStatusCode)
                    {
                        Interlocked.Increment(ref failures);
                    }
                }
            }));
            var all = latencies.SelectMany(l => l).Order().ToArray();
            return new LoadResult(all.Length, Percentile(all, 0.5), Percentile(all, 0.95), all[^1], all.Length / clock.Elapsed.TotalSeconds, bytes, failures);
        }

        public void Dispose() => _http.Dispose();

        private async Task<HttpResponseMessage> PostAsync(string url, string tokenPage, Dictionary<string, string> fields)
        {
            var page = await _http.GetStringAsync(tokenPage);
            var token = TokenPattern().Match(page);
            if (!token.Success)
            {
                throw new InvalidOperationException($"No antiforgery token on /{tokenPage}.");
            }

            fields["__RequestVerificationToken"] = WebUtility.HtmlDecode(token.Groups[1].Value);
            return await _http.PostAsync(url, new FormUrlEncodedContent(fields));
        }

        private static double Percentile(double[] sorted, double fraction) =>
            sorted.Length == 0 ? 0 : sorted[Math.Clamp((int)Math.Ceiling(fraction * sorted.Length) - 1, 0, sorted.Length - 1)];

        [GeneratedRegex("<input[^>]*name=\"__RequestVerificationToken\"[^>]*value=\"([^\"]+)\"")]
        private static partial Regex TokenPattern();
    }
}
