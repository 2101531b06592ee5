using MlxManager.Bench;

// Reproducible benchmarks, each printing its figures against a baseline measured in the same run.
// Usage: dotnet MlxManager.Bench.dll <benchmark> [options]
return args.FirstOrDefault() switch
{
    "servers" => await ServersBench.RunAsync(args[1..]),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("Usage: MlxManager.Bench <benchmark> [options]");
    Console.Error.WriteLine("  servers   the manager's own CPU with 8 emulated servers, and the server-tiles fragment under 20 clients");
    Console.Error.WriteLine("            options: --servers N (8) --idle-seconds S (30) --busy-seconds S (45) --clients N (20) --load-seconds S (15) --settle-seconds S (15)");
    return 2;
}
