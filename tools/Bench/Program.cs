// Reproducible benchmarks; each subcommand prints its figures and ratios against a baseline measured in the same run.
return args.FirstOrDefault() switch
{
    "chat" => await MlxManager.Bench.ChatBench.RunAsync(args[1..]),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: MlxManager.Bench chat [--runs N]   tokens/s and time to first token: manager chat stream vs the engine read directly");
    return 2;
}
