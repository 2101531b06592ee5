using MlxManager.Bench;

const string Usage = """
    usage: Bench <benchmark> [options]

      downloads [--size-mb N] [--shards N] [--rounds N] [--parallel N] [--buffer-kb N] [--work <folder>] [--keep]
          a ≥ 1 GB model from the HubEmulator (a separate process, loopback): the app's download engine
          against curl -L -o on the same files, in the same run; throughput ratio and memory growth.
    """;

if (args.Length == 0 || args[0] is "-h" or "--help")
{
    Console.WriteLine(Usage);
    return args.Length == 0 ? 2 : 0;
}

return args[0] switch
{
    "downloads" => await DownloadsBench.RunAsync(args[1..]),
    _ => Unknown(args[0]),
};

static int Unknown(string name)
{
    Console.Error.WriteLine($"unknown benchmark '{name}'\n\n{Usage}");
    return 2;
}
