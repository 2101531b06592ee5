using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using MlxManager.Core.Data;
using MlxManager.Core.Engines;
using MlxManager.Core.Gateway;
using MlxManager.Core.Profiles;
using MlxManager.Core.Servers;
using MlxManager.Core.Usage;

namespace MlxManager.Bench;

/// <summary>
/// <c>bench ledger</c>: what the usage ledger costs a gateway request, and whether its writer keeps up.
/// (1) The gateway's in-process request path — parse the body, relay a 200-chunk mlx_lm stream (plus its usage chunk) with
///     <see cref="GatewayForwarder.RelayEventsAsync"/> — measured without the ledger (baseline) and with it (a
///     <see cref="GatewayMeter"/> through every step, each payload inspected, the row recorded to a real
///     <see cref="UsageLedger"/> with the real <see cref="UsageQuotas"/> observer), alternating, in the same run:
///     p50/p99 of both and the p50 added (target &lt; 1 ms).
/// (2) The <see cref="UsageLedgerWriter"/> on a real SQLite app.db: rows recorded at a steady rate (default 1000/s) for
///     some seconds — every row must be written within 2 s of the last one — and a burst, for its rows per second.
/// No engine or network is involved, so the figures are the ledger's own; the machine is shared, so report medians.
/// </summary>
public static class LedgerBench
{
    public static async Task<int> RunAsync(string[] args)
    {
        var requests = Option(args, "--requests", 2000);
        var rate = Option(args, "--rate", 1000);
        var seconds = Option(args, "--seconds", 10);
        var burst = Option(args, "--burst", 20_000);
        var folder = Directory.CreateTempSubdirectory("mlxm-bench-ledger-").FullName;
        try
        {
            await using var services = await ServicesAsync(Path.Combine(folder, "app.db"));
            var missed = new List<string>();
            Console.WriteLine($"ledger benchmark: {requests} requests per side, alternating; writer at {rate} rows/s for {seconds} s and a burst of {burst}; {Environment.ProcessorCount} cores (shared: figures are noisy)");
            Console.WriteLine();

            var (baseline, metered) = await MeasureRequestPathAsync(services, requests);
            var added = Percentile(metered, 0.5) - Percentile(baseline, 0.5);
            Console.WriteLine("request path       |   p50 ms |   p99 ms");
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"without the ledger | {Percentile(baseline, 0.5),8:0.000} | {Percentile(baseline, 0.99),8:0.000}"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"with the ledger    | {Percentile(metered, 0.5),8:0.000} | {Percentile(metered, 0.99),8:0.000}"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"added by the ledger: p50 {added:0.000} ms (target < 1 ms), ratio {Percentile(metered, 0.5) / Percentile(baseline, 0.5):0.00}x"));
            if (added >= 1)
            {
                missed.Add("p50 added ≥ 1 ms");
            }

            Console.WriteLine();
            var steady = await MeasureSteadyWritesAsync(services, rate, seconds);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"writer at {rate} rows/s: {steady.Rows} rows, at most {steady.MostPending} waiting, all written {steady.Drain.TotalMilliseconds:0} ms after the last (target ≤ 2000 ms)"));
            if (steady.Drain > TimeSpan.FromSeconds(2))
            {
                missed.Add($"writer behind at {rate} rows/s");
            }

            var burstRate = await MeasureBurstAsync(services, burst);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"writer burst: {burst} rows written at {burstRate:0} rows/s (target ≥ {rate})"));
            if (burstRate < rate)
            {
                missed.Add("burst below the steady rate");
            }

            Console.WriteLine();
            Console.WriteLine(missed.Count == 0 ? "targets met" : $"targets missed: {string.Join(", ", missed)}");
            return missed.Count == 0 ? 0 : 1;
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>The in-process request path's p50 without and with the ledger, in ms: also a row of <c>bench gateway</c>.</summary>
    internal static async Task<(double Without, double With)> RequestPathP50Async(int requests)
    {
        var folder = Directory.CreateTempSubdirectory("mlxm-bench-ledger-").FullName;
        try
        {
            await using var services = await ServicesAsync(Path.Combine(folder, "app.db"));
            var (baseline, metered) = await MeasureRequestPathAsync(services, requests);
            return (Percentile(baseline, 0.5), Percentile(metered, 0.5));
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(folder, recursive: true);
        }
    }

    private static async Task<(List<double> Baseline, List<double> Metered)> MeasureRequestPathAsync(ServiceProvider services, int requests)
    {
        var stream = CannedStream(200);
        var body = Encoding.UTF8.GetBytes(GatewayBody());
        var ledger = services.GetRequiredService<UsageLedger>();
        var directory = new OneServer();
        var metering = new GatewayMetering(ledger, directory, TimeProvider.System);
        var baseline = new List<double>(requests);
        var metered = new List<double>(requests);
        for (var i = -200; i < requests; i++) // the first 200 of each side warm up
        {
            var plain = await RequestAsync(stream, body, meter: null);
            var withLedger = await RequestAsync(stream, body, metering.Begin("bench-user", 1), directory.Server);
            if (i >= 0)
            {
                baseline.Add(plain);
                metered.Add(withLedger);
            }

            while (ledger.Pending > 10_000)
            {
                await Task.Delay(10); // the writer's pace is measured below, not here
            }
        }

        return (baseline, metered);
    }

    /// <summary>One request's in-process work; milliseconds.</summary>
    private static async Task<double> RequestAsync(byte[] stream, byte[] body, GatewayMeter? meter, ServerSnapshot? server = null)
    {
        var started = Stopwatch.GetTimestamp();
        var json = (JsonObject)JsonNode.Parse(body)!;
        if (meter is not null)
        {
            meter.Asked(json, (string)json["model"]!, stream: true);
            meter.Routed(server!.Profile);
            meter.Admitted();
            meter.Ready(server);
        }

        _ = json.ToJsonString(); // what the forwarder sends
        using var upstream = new MemoryStream(stream, writable: false);
        using var client = new MemoryStream(stream.Length + 1024);
        await GatewayForwarder.RelayEventsAsync(upstream, client, _ => Task.CompletedTask, CancellationToken.None,
            meter is null ? null : payload => meter.OnEvent(payload.Span));
        meter?.Record();
        return Stopwatch.GetElapsedTime(started).TotalMilliseconds;
    }

    private static async Task<(int Rows, int MostPending, TimeSpan Drain)> MeasureSteadyWritesAsync(ServiceProvider services, int rate, int seconds)
    {
        var ledger = services.GetRequiredService<UsageLedger>();
        var before = await CountAsync(services);
        var rows = rate * seconds;
        var mostPending = 0;
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < rows; i++)
        {
            var due = TimeSpan.FromSeconds((double)i / rate);
            if (clock.Elapsed < due)
            {
                await Task.Delay(due - clock.Elapsed);
            }

            ledger.Record(Row(i));
            mostPending = Math.Max(mostPending, ledger.Pending);
        }

        var last = clock.Elapsed;
        while (await CountAsync(services) < before + rows)
        {
            await Task.Delay(5);
        }

        return (rows, mostPending, clock.Elapsed - last);
    }

    private static async Task<double> MeasureBurstAsync(ServiceProvider services, int burst)
    {
        var ledger = services.GetRequiredService<UsageLedger>();
        var before = await CountAsync(services);
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < burst; i++)
        {
            ledger.Record(Row(i));
        }

        while (await CountAsync(services) < before + burst)
        {
            await Task.Delay(5);
        }

        return burst / clock.Elapsed.TotalSeconds;
    }

    private static async Task<int> CountAsync(ServiceProvider services)
    {
        await using var scope = services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<AppDbContext>().UsageRecords.CountAsync();
    }

    private static UsageRecord Row(int i) => new()
    {
        StartedAtUtc = DateTime.UtcNow,
        UserId = $"user-{i % 20}",
        ApiKeyId = i % 5,
        Source = UsageSource.Gateway,
        ProfileId = 1,
        ProfileName = "Bench",
        Model = $"mlx-community/model-{i % 4}",
        PromptTokens = 100,
        CompletionTokens = 200,
        TimeToFirstTokenMs = 50,
        DurationMs = 2000,
    };

    /// <summary>A real app.db (migrated) with the ledger, its writer and the quota observer.</summary>
    private static async Task<ServiceProvider> ServicesAsync(string database)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton(TimeProvider.System);
        services.AddDbContext<AppDbContext>(options => options.UseSqlite(SqliteDatabase.ConnectionString(database)));
        services.AddSingleton<UsageQuotas>();
        services.AddSingleton<IUsageObserver>(provider => provider.GetRequiredService<UsageQuotas>());
        services.AddSingleton<UsageLedger>();
        services.AddSingleton<UsageLedgerWriter>();
        var provider = services.BuildServiceProvider();
        await using (var scope = provider.CreateAsyncScope())
        {
            await SqliteDatabase.PrepareAsync(scope.ServiceProvider.GetRequiredService<AppDbContext>());
        }

        await provider.GetRequiredService<UsageQuotas>().LoadAsync(CancellationToken.None);
        await provider.GetRequiredService<UsageLedgerWriter>().StartAsync(CancellationToken.None);
        return provider;
    }

    private static string GatewayBody() => new JsonObject
    {
        ["model"] = "bench",
        ["stream"] = true,
        ["max_tokens"] = 512,
        ["messages"] = new JsonArray(
            new JsonObject { ["role"] = "system", ["content"] = "You are a helpful assistant." },
            new JsonObject { ["role"] = "user", ["content"] = string.Join(' ', Enumerable.Repeat("Explain the usage ledger.", 40)) }),
    }.ToJsonString();

    /// <summary>What mlx_lm.server streams for a <paramref name="tokens"/>-token answer with include_usage.</summary>
    private static byte[] CannedStream(int tokens)
    {
        var text = new StringBuilder();
        for (var i = 0; i < tokens; i++)
        {
            text.Append(CultureInfo.InvariantCulture,
                $"data: {{\"id\": \"chatcmpl-bench\", \"system_fingerprint\": \"0.28.0\", \"object\": \"chat.completion.chunk\", \"model\": \"mlx-community/bench\", \"created\": 1764900000, \"choices\": [{{\"index\": 0, \"delta\": {{\"role\": \"assistant\", \"content\": \"word{i} \"}}, \"logprobs\": null, \"finish_reason\": null}}]}}\n\n");
        }

        text.Append("data: {\"id\": \"chatcmpl-bench\", \"object\": \"chat.completion\", \"model\": \"mlx-community/bench\", \"created\": 1764900000, \"choices\": [], \"usage\": {\"prompt_tokens\": 250, \"completion_tokens\": 201, \"total_tokens\": 451}}\n\n");
        text.Append("data: [DONE]\n\n");
        return Encoding.UTF8.GetBytes(text.ToString());
    }

    private static int Option(string[] args, string name, int fallback)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length ? int.Parse(args[index + 1], CultureInfo.InvariantCulture) : fallback;
    }

    private static double Percentile(List<double> values, double percentile)
    {
        var sorted = values.Order().ToList();
        return sorted[(int)Math.Min(sorted.Count - 1, Math.Floor(percentile * sorted.Count))];
    }

    /// <summary>The one ready server the metered requests go to.</summary>
    private sealed class OneServer : IServerDirectory
    {
        public ServerSnapshot Server { get; } = new(
            1, 1, new Profile { Id = 1, Name = "Bench" }, new MlxLmServer(), new ResolvedModel("mlx-community/bench"), ServerState.Ready, "", [], null,
            DateTimeOffset.UtcNow, DateTimeOffset.UtcNow, null, null, false, "", 1);

        public IReadOnlyList<ServerSnapshot> Servers => [Server];

        public long Version => 1;

        public ServerSnapshot? Find(int serverId) => serverId == 1 ? Server : null;

        public ServerAvailability CheckAvailable(int serverId) => new(Find(serverId), null);

        public Task<ServerSnapshot?> WaitUntilSettledAsync(int serverId, CancellationToken cancellationToken) => Task.FromResult(Find(serverId));

        public event Action<ServerSnapshot>? Changed
        {
            add { }
            remove { }
        }

        public event Action<int, long>? LogAdvanced
        {
            add { }
            remove { }
        }

        public LogSlice? ReadLog(int serverId, long afterSequence, int max) => null;

        public string? LogFileOf(int serverId) => null;
    }
}
