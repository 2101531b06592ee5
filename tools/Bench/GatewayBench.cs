using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using MlxManager.Core.Accounts;
using MlxManager.Core.Accounts.Keys;
using MlxManager.Core.Data;
using MlxManager.Core.Engines;
using MlxManager.Core.Profiles;
using MlxManager.Core.Servers;
using MlxManager.EngineEmulator.Installation;
using MlxManager.ModelFixtures;
using MlxManager.Web.Hosting;

namespace MlxManager.Bench;

/// <summary>
/// <c>bench gateway</c>: the manager (in this process, real supervisor, real Kestrel) serving emulated mlx_lm.server
/// engines through <c>/v1</c>, against the same engines read directly in the same run:
/// <list type="bullet">
/// <item>one stream to a running model: tokens per second (target ≥ 0.98×) and the time added to the first token (p50 &lt; 5 ms);</item>
/// <item>16 concurrent streams: aggregate tokens per second (≥ 0.95×);</item>
/// <item>cold start: request to first token through the gateway minus the engine's own launch-to-first-token when
/// started directly (&lt; 300 ms);</item>
/// <item>the usage ledger: the time a ledger row adds to the request path, p50 &lt; 1 ms (<see cref="LedgerBench"/>).</item>
/// </list>
/// Each figure is a <see cref="Row"/> with its target. Direct and gateway runs alternate; medians over the runs after a warm-up.
/// </summary>
public static class GatewayBench
{
    private const string Prompt = "Benchmark answer";

    public static async Task<int> RunAsync(string[] args)
    {
        var runs = Option(args, "--runs", 7);
        var rate = Option(args, "--rate", 500);
        var tokens = Option(args, "--tokens", 1000);
        var streams = Option(args, "--streams", 16);
        var streamRate = Option(args, "--stream-rate", 40);
        var coldRuns = Option(args, "--cold-runs", 7);
        var work = Directory.CreateTempSubdirectory("bench-gateway-").FullName;
        var rows = new List<Row>();
        try
        {
            var cache = Directory.CreateDirectory(Path.Combine(work, "hf")).FullName;
            HfCacheWriter.Write(cache, FixtureCatalog.Phi8Bit);
            var launchers = Path.Combine(work, "bin");
            LauncherInstaller.Install(launchers, LauncherKind.Exec, typeof(LauncherInstaller).Assembly.Location);
            Console.WriteLine($"gateway benchmark: emulated mlx_lm.server ({FixtureCatalog.Phi8Bit.RepoId}) read directly and through /v1; {Environment.ProcessorCount} cores");
            await using var manager = await BenchManager.StartAsync(Path.Combine(work, "data"), cache, launchers);
            var single = await manager.AddProfileAsync("bench-single", $"EMULATOR_TOKEN_RATE={rate}\nEMULATOR_PREFILL_RATE=100000", 8);
            var many = await manager.AddProfileAsync("bench-many", $"EMULATOR_TOKEN_RATE={streamRate}\nEMULATOR_PREFILL_RATE=100000", streams);
            // Cold start: the real engines spend 1–3 s importing mlx before they listen.
            var coldEnvironment = $"EMULATOR_TOKEN_RATE={rate}\nEMULATOR_PREFILL_RATE=100000\nEMULATOR_IMPORT_SECONDS=1";
            var cold = await manager.AddProfileAsync("bench-cold", coldEnvironment, 8);

            rows.AddRange(await RunningModelAsync(manager, single, runs, tokens, rate));
            rows.Add(await ConcurrentStreamsAsync(manager, many, Math.Max(3, runs / 2), streams, streamRate * 5, streamRate));
            rows.Add(await ColdStartAsync(manager, cold, coldEnvironment, launchers, cache, coldRuns, tokens: 20));
            var (withoutLedger, withLedger) = await LedgerBench.RequestPathP50Async(Option(args, "--ledger-requests", 2000));
            var ledgerAdds = withLedger - withoutLedger;
            rows.Add(new Row("usage ledger: request path p50, ms", withoutLedger, withLedger,
                string.Create(CultureInfo.InvariantCulture, $"{ledgerAdds:+0.000;-0.000} ms"), "< 1 ms added", ledgerAdds < 1));

            Console.WriteLine();
            Console.WriteLine("figure                                  |     direct |    gateway | result          | target");
            foreach (var row in rows)
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{row.Name,-39} | {row.Direct,10:0.0} | {row.Gateway,10:0.0} | {row.Result,-15} | {row.Target}"));
            }

            Console.WriteLine();
            Console.WriteLine("TTFT: sending the request to the first content delta; tok/s = (tokens - 1) / (last token - first token); aggregate =");
            Console.WriteLine("all streams' tokens / (last token of any - first request sent); cold start: the gateway's request to first token on a");
            Console.WriteLine("stopped profile, the engine's own = its launch (by this process, same launcher, arguments and environment) to the");
            Console.WriteLine("first token of a request sent as soon as it listens. Usage ledger: the in-process request path (parse, relay 200 chunks)");
            Console.WriteLine("without (direct column) and with a ledger row (gateway column), see bench ledger. The machine may be shared: figures are");
            Console.WriteLine("noisy, medians reported.");
            var missed = rows.Where(r => !r.Met).Select(r => $"{r.Name} {r.Result} (target {r.Target})").ToList();
            Console.WriteLine(missed.Count == 0 ? "targets met" : $"targets missed: {string.Join("; ", missed)}");
            return missed.Count == 0 ? 0 : 1;
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    /// <summary>One figure: its value read directly and through the gateway, the result against its target.</summary>
    private sealed record Row(string Name, double Direct, double Gateway, string Result, string Target, bool Met);

    private static async Task<Row[]> RunningModelAsync(BenchManager manager, Profile profile, int runs, int tokens, int rate)
    {
        using var gateway = manager.Client();
        await gateway.StreamAsync(profile.Name, 2); // starts it on demand
        var server = manager.Supervisor.Find(profile.Id) ?? throw new InvalidOperationException("The gateway did not start the profile.");
        using var direct = BenchManager.Direct(server);
        var directSamples = new List<Stream>();
        var gatewaySamples = new List<Stream>();
        for (var run = 0; run <= runs; run++)
        {
            var d = await direct.StreamAsync(server.Model.Reference, tokens);
            var g = await gateway.StreamAsync(profile.Name, tokens);
            if (run > 0)
            {
                directSamples.Add(d); // run 0 warms up both paths (JIT, connections)
                gatewaySamples.Add(g);
            }
        }

        var directRate = Median(directSamples.Select(s => s.Rate(tokens)));
        var gatewayRate = Median(gatewaySamples.Select(s => s.Rate(tokens)));
        var directTtft = Median(directSamples.Select(s => s.FirstToken));
        var gatewayTtft = Median(gatewaySamples.Select(s => s.FirstToken));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"running model, {tokens} tokens at {rate} tok/s, {runs} runs each: direct {directRate:0.0} tok/s, TTFT {directTtft:0.00} ms; gateway {gatewayRate:0.0} tok/s, TTFT {gatewayTtft:0.00} ms"));
        // Each pair runs back to back on the same machine state: the median of their differences is steadier than the
        // difference of the medians on a shared machine.
        var added = Median(gatewaySamples.Zip(directSamples, (g, d) => g.FirstToken - d.FirstToken));
        return
        [
            new("stream tok/s, running model", directRate, gatewayRate, string.Create(CultureInfo.InvariantCulture, $"{gatewayRate / directRate:0.000}x"), ">= 0.98x", gatewayRate / directRate >= 0.98),
            new("TTFT ms (p50), running model", directTtft, gatewayTtft, string.Create(CultureInfo.InvariantCulture, $"{added:+0.00;-0.00} ms"), "< 5 ms added", added < 5),
        ];
    }

    private static async Task<Row> ConcurrentStreamsAsync(BenchManager manager, Profile profile, int runs, int streams, int tokens, int rate)
    {
        using var gateway = manager.Client();
        await gateway.StreamAsync(profile.Name, 2);
        var server = manager.Supervisor.Find(profile.Id)!;
        using var direct = BenchManager.Direct(server);
        var directRates = new List<double>();
        var gatewayRates = new List<double>();
        for (var run = 0; run <= runs; run++)
        {
            var d = await AggregateAsync(() => direct.StreamAsync(server.Model.Reference, tokens), streams, tokens);
            var g = await AggregateAsync(() => gateway.StreamAsync(profile.Name, tokens), streams, tokens);
            if (run > 0)
            {
                directRates.Add(d);
                gatewayRates.Add(g);
            }
        }

        var directRate = Median(directRates);
        var gatewayRate = Median(gatewayRates);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{streams} concurrent streams, {tokens} tokens each at {rate} tok/s, {runs} runs each: direct {directRate:0.0} tok/s, gateway {gatewayRate:0.0} tok/s in all"));
        return new($"{streams} streams, aggregate tok/s", directRate, gatewayRate, string.Create(CultureInfo.InvariantCulture, $"{gatewayRate / directRate:0.000}x"), ">= 0.95x", gatewayRate / directRate >= 0.95);
    }

    private static async Task<double> AggregateAsync(Func<Task<Stream>> stream, int streams, int tokens)
    {
        var clock = Stopwatch.StartNew();
        var all = await Task.WhenAll(Enumerable.Range(0, streams).Select(_ => Task.Run(async () =>
        {
            var started = clock.Elapsed.TotalMilliseconds;
            var result = await stream();
            return started + result.LastToken;
        })));
        return streams * tokens / (all.Max() / 1000);
    }

    private static async Task<Row> ColdStartAsync(BenchManager manager, Profile profile, string environment, string launchers, string cache, int runs, int tokens)
    {
        using var gateway = manager.Client();
        var direct = new List<double>();
        var through = new List<double>();
        for (var run = 0; run <= runs; run++)
        {
            // The order alternates: on a shared machine, whichever starts first after a stop is not favoured every time.
            var ownFirst = run % 2 == 0;
            var own = ownFirst ? await EngineFirstTokenAsync(profile, environment, launchers, cache, tokens) : 0;
            var viaGateway = await gateway.StreamAsync(profile.Name, tokens);
            await manager.Supervisor.StopServerAsync(profile.Id, CancellationToken.None);
            own = ownFirst ? own : await EngineFirstTokenAsync(profile, environment, launchers, cache, tokens);
            if (run > 0)
            {
                direct.Add(own); // run 0 warms up both paths
                through.Add(viaGateway.FirstToken);
            }
        }

        var ownMedian = Median(direct);
        var gatewayMedian = Median(through);
        var added = Median(through.Zip(direct, (g, d) => g - d));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"cold start, {runs} runs each: engine's own launch to first token {ownMedian:0} ms; gateway request to first token {gatewayMedian:0} ms"));
        return new("cold start to first token, ms", ownMedian, gatewayMedian, string.Create(CultureInfo.InvariantCulture, $"{added:+0;-0} ms"), "< 300 ms added", added < 300);
    }

    /// <summary>Launches the profile's engine as the supervisor would, but by hand, and times launch to first token.</summary>
    private static async Task<double> EngineFirstTokenAsync(Profile profile, string environment, string launchers, string cache, int tokens)
    {
        var port = ServersBench.FreePort();
        var own = new Profile { Name = profile.Name, ModelRef = profile.ModelRef, Engine = profile.Engine, Host = "127.0.0.1", Port = port, MaxTokens = profile.MaxTokens };
        var variables = environment.Split('\n').Select(line => line.Split('=', 2)).ToDictionary(pair => pair[0], pair => pair[1]);
        using var client = new GatewayClient(new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/"), Timeout = TimeSpan.FromMinutes(2) });
        var clock = Stopwatch.StartNew();
        using var process = ChatBench.StartEngine(launchers, cache, own, 0, variables);
        try
        {
            while (true)
            {
                try
                {
                    var sent = clock.Elapsed.TotalMilliseconds;
                    var stream = await client.StreamAsync(own.ModelRef, tokens);
                    return sent + stream.FirstToken;
                }
                catch (HttpRequestException) when (clock.Elapsed < TimeSpan.FromSeconds(60))
                {
                    await Task.Delay(5); // not listening yet
                }
            }
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
    }

    /// <summary>One streamed answer: milliseconds from sending to the first and the last content delta.</summary>
    private sealed record Stream(double FirstToken, double LastToken)
    {
        public double Rate(int tokens) => (tokens - 1) / ((LastToken - FirstToken) / 1000);
    }

    /// <summary>A streaming OpenAI client, the same for the engine and the gateway (only the address and key differ).</summary>
    private sealed class GatewayClient(HttpClient http) : IDisposable
    {
        public async Task<Stream> StreamAsync(string model, int tokens)
        {
            var body = JsonSerializer.SerializeToUtf8Bytes(new
            {
                model,
                messages = new[] { new { role = "user", content = $"{Prompt} [[tokens:{tokens}]]" } },
                stream = true,
                max_tokens = tokens + 16,
            });
            var (first, last) = await ChatBench.StreamAsync(http, body);
            return new Stream(first, last);
        }

        public void Dispose() => http.Dispose();
    }

    /// <summary>The manager in this process on a fresh data folder, with one active user and a personal inference key.</summary>
    private sealed class BenchManager(WebApplication app, Uri baseUrl, string key) : IAsyncDisposable
    {
        public ServerSupervisor Supervisor => app.Services.GetRequiredService<ServerSupervisor>();

        public static async Task<BenchManager> StartAsync(string dataFolder, string cache, string launchers)
        {
            var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = ["--data", dataFolder], EnvironmentName = "Production", ApplicationName = typeof(MlxManager.Web.WebAppAssembly).Assembly.GetName().Name });
            var settings = new Dictionary<string, string?>
            {
                ["MlxManager:HuggingFace:HubCache"] = cache,
                ["MlxManager:Servers:StopServersOnExit"] = "true",
                ["MlxManager:Servers:AutoStart"] = "false",
            };
            foreach (var engine in new[] { "mlx_lm.server", "mlx_vlm.server", "mlx-openai-server" })
            {
                settings[$"MlxManager:Engines:{engine}:Path"] = Path.Combine(launchers, engine);
            }

            builder.Configuration.AddInMemoryCollection(settings);
            builder.Logging.ClearProviders();
            builder.AddMlxManager();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            var app = builder.Build();
            app.UseMlxManager();
            await app.StartAsync();
            var address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
            await using var scope = app.Services.CreateAsyncScope();
            var users = scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>();
            var user = new AppUser { UserName = "bench@example.com", Email = "bench@example.com", Status = UserStatus.Active, CreatedAtUtc = DateTime.UtcNow };
            var created = await users.CreateAsync(user, "a long enough password");
            if (!created.Succeeded)
            {
                throw new InvalidOperationException(string.Join("; ", created.Errors.Select(e => e.Description)));
            }

            var key = await scope.ServiceProvider.GetRequiredService<PersonalApiKeys>().CreateAsync(new KeyViewer(user.Id, false), new NewApiKey("bench", null, ApiKeyScopes.Inference));
            return new BenchManager(app, address, key.Secret ?? throw new InvalidOperationException("No key was created."));
        }

        public async Task<Profile> AddProfileAsync(string name, string environment, int maxConcurrent)
        {
            await using var scope = app.Services.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
            var now = DateTimeOffset.UtcNow;
            var profile = new Profile
            {
                Name = name,
                ModelRef = FixtureCatalog.Phi8Bit.RepoId,
                Engine = MlxLmServer.EngineKey,
                Host = "127.0.0.1",
                Port = ServersBench.FreePort(),
                MaxTokens = 40_000,
                EnvironmentVariables = environment,
                MaxConcurrentRequests = maxConcurrent,
                CreatedAt = now,
                UpdatedAt = now,
            };
            db.Profiles.Add(profile);
            await db.SaveChangesAsync();
            return profile;
        }

        /// <summary>A client of <c>/v1</c> with the personal key, as an OpenAI SDK would send it.</summary>
        public GatewayClient Client()
        {
            var http = new HttpClient { BaseAddress = baseUrl, Timeout = TimeSpan.FromMinutes(5) };
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
            return new GatewayClient(http);
        }

        /// <summary>A client of the engine itself.</summary>
        public static GatewayClient Direct(ServerSnapshot server) =>
            new(new HttpClient { BaseAddress = ServerSnapshot.BaseUrlFor(server.Profile.Host, server.Profile.Port), Timeout = TimeSpan.FromMinutes(5) });

        public async ValueTask DisposeAsync()
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }

    private static int Option(string[] args, string name, int fallback)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length && int.TryParse(args[index + 1], CultureInfo.InvariantCulture, out var value) ? value : fallback;
    }
}
