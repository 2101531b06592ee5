using MlxManager.Bench;

// Reproducible benchmarks; each subcommand prints its figures and a ratio against a baseline measured in the same run.
const string Usage = """
    usage: MlxManager.Bench <benchmark> [options]
      models [--models N] [--baseline N] [--renders N]
          server time per render of /models?tab=local with N cached models (default 5000) against the same page
          with a baseline of 10, detection results cached; prints both medians and the ratio (target < 3x) and
          the memory the library's cached scan holds
      servers [--servers N] [--idle-seconds S] [--busy-seconds S] [--clients N] [--load-seconds S] [--settle-seconds S]
          the manager's own CPU with N (8) emulated servers running, and the server-tiles fragment under 20 clients
          against a static file served by the same app (targets: CPU < 2 %, p95 < 10 ms and ≤ 3x static)
      downloads [--size-mb N] [--shards N] [--rounds N] [--parallel N] [--buffer-kb N] [--rate-mb N] [--work <folder>] [--keep]
          a ≥ 1 GB model from the HubEmulator (a separate process, loopback): the app's download engine
          against curl -L -o on the same files, in the same run, at full speed, capped at --rate-mb (250) and beside
          a CPU-bound neighbour; median throughput ratios (targets ≥ 0.9, ≥ 0.97 capped), CPU seconds per GB of
          each (app ≤ 1.3x curl's) and memory growth (< 100 MB)
      chat [--runs N]
          tokens/s and time to first token: the manager's chat stream against the same engine read directly, and on
          a 32k-token answer at 500 tok/s the bytes a running turn keeps against the answer's HTML (target <= 2x)
      ledger [--requests N] [--rate N] [--seconds N] [--burst N]
          the usage ledger: the gateway's in-process request path (body, a 200-chunk stream relayed) without and with
          a ledger row, alternating (target: < 1 ms added at p50), and the batched writer on a real app.db at N (1000)
          rows/s (all written within 2 s of the last) and in a burst
      startup [--models N] [--runs N]
          time to the manager's first answered /login with N (500) cached models, first start (new data folder) and
          restart, for the app as installed (published ReadyToRun for this platform; target < 2 s) and as dotnet run
          builds it; the installed app's first start with an empty cache is the baseline
      gateway [--runs N] [--rate R] [--tokens N] [--streams N] [--stream-rate R] [--cold-runs N] [--ledger-requests N]
          emulated engines through /v1 against the same engines read directly: one stream's tok/s (target >= 0.98x)
          and added time to first token (p50 < 5 ms), N (16) concurrent streams' aggregate tok/s (>= 0.95x), and a
          cold start's request to first token minus the engine's own launch to first token (< 300 ms), and the time
          a usage-ledger row adds to the request path (p50 < 1 ms)
    """;

if (args.Length == 0 || args[0] is "-h" or "--help")
{
    Console.WriteLine(Usage);
    return args.Length == 0 ? 2 : 0;
}

return args[0] switch
{
    "models" => await ModelsBenchmark.RunAsync(args[1..]),
    "servers" => await ServersBench.RunAsync(args[1..]),
    "downloads" => await DownloadsBench.RunAsync(args[1..]),
    "chat" => await ChatBench.RunAsync(args[1..]),
    "startup" => await StartupBench.RunAsync(args[1..]),
    "ledger" => await LedgerBench.RunAsync(args[1..]),
    "gateway" => await GatewayBench.RunAsync(args[1..]),
    _ => Fail($"unknown benchmark '{args[0]}'"),
};

static int Fail(string message)
{
    Console.Error.WriteLine($"Bench: {message}\n{Usage}");
    return 2;
}
