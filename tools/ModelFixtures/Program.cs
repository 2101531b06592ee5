using MlxManager.ModelFixtures;

const string Usage = """
    usage: ModelFixtures <command> [options]

      list                                   the named fixtures
      hub <root> [--large] [--huge-mb N]     write the catalogue into a HubEmulator root
      cache <hf-hub-cache> [--preset K ...] [--copy] [--large]
                                             write fixtures straight into an HF cache
      repo <folder> --preset K [--id org/name] [--size-mb N] [--shards N]
                                             write one repo folder
    """;

if (args.Length == 0 || args[0] is "-h" or "--help")
{
    Console.WriteLine(Usage);
    return args.Length == 0 ? 2 : 0;
}

try
{
    var options = CliOptions.Parse(args.Skip(1).ToArray());
    switch (args[0])
    {
        case "list":
            foreach (var key in FixtureCatalog.Keys)
            {
                var spec = FixtureCatalog.Find(key)!;
                Console.WriteLine($"{key,-16} {spec.RepoId,-52} {spec.WeightBytes / 1024 / 1024,5} MB  {spec.Shards} shard(s)");
            }
            return 0;
        case "hub":
        {
            var root = options.Positional("root");
            var specs = FixtureCatalog.Small.ToList();
            if (options.Has("--large")) specs.Add(FixtureCatalog.Large);
            if (options.Value("--huge-mb") is { } hugeMb)
                specs.Add(FixtureCatalog.Sized(FixtureCatalog.Large with { RepoId = "mlx-community/Qwen3-8B-8bit" }, long.Parse(hugeMb) * 1024 * 1024, 4));
            foreach (var repo in HubRootWriter.WriteAll(root, specs))
                Console.WriteLine($"{repo.Spec.RepoId}  {repo.Commit}  {repo.Files.Count} files  {repo.WeightBytes / 1024.0 / 1024:F1} MB weights");
            return 0;
        }
        case "cache":
        {
            var root = options.Positional("hf-hub-cache");
            var presets = options.Values("--preset");
            var specs = presets.Count > 0
                ? presets.Select(p => FixtureCatalog.Find(p) ?? throw new ArgumentException($"unknown preset '{p}' (see: list)")).ToList()
                : FixtureCatalog.Small.ToList();
            if (options.Has("--large")) specs.Add(FixtureCatalog.Large);
            var layout = new CacheLayoutOptions { CopySnapshots = options.Has("--copy") };
            foreach (var spec in specs)
            {
                var repo = HfCacheWriter.Write(root, spec, layout);
                Console.WriteLine($"{spec.RepoId}  {repo.Commit}  -> {repo.Folder}");
            }
            return 0;
        }
        case "repo":
        {
            var folder = options.Positional("folder");
            var key = options.Value("--preset") ?? throw new ArgumentException("--preset is required");
            var spec = FixtureCatalog.Find(key) ?? throw new ArgumentException($"unknown preset '{key}' (see: list)");
            if (options.Value("--id") is { } id) spec = spec with { RepoId = id };
            if (options.Value("--size-mb") is { } sizeMb) spec = spec with { WeightBytes = long.Parse(sizeMb) * 1024 * 1024 };
            if (options.Value("--shards") is { } shards) spec = spec with { Shards = int.Parse(shards) };
            var repo = RepoWriter.Write(folder, spec);
            Console.WriteLine($"{spec.RepoId}  {repo.Commit}  {repo.Files.Count} files  {repo.WeightBytes / 1024.0 / 1024:F1} MB weights");
            return 0;
        }
        default:
            Console.Error.WriteLine($"unknown command '{args[0]}'\n{Usage}");
            return 2;
    }
}
catch (Exception e) when (e is ArgumentException or FormatException or IOException)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return 2;
}

/// <summary>A tiny parser for <c>--flag</c>, <c>--name value</c> (repeatable) and positional arguments.</summary>
sealed class CliOptions
{
    readonly List<string> positional = [];
    readonly List<(string Name, string? Value)> named = [];
    static readonly HashSet<string> Flags = ["--large", "--copy"];

    public static CliOptions Parse(string[] args)
    {
        var options = new CliOptions();
        for (int i = 0; i < args.Length; i++)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal)) options.positional.Add(args[i]);
            else if (Flags.Contains(args[i])) options.named.Add((args[i], null));
            else if (i + 1 < args.Length) options.named.Add((args[i], args[++i]));
            else throw new ArgumentException($"{args[i]} needs a value");
        }
        return options;
    }

    public string Positional(string name) => positional.FirstOrDefault() ?? throw new ArgumentException($"<{name}> is required");
    public bool Has(string name) => named.Any(n => n.Name == name);
    public string? Value(string name) => named.LastOrDefault(n => n.Name == name).Value;
    public IReadOnlyList<string> Values(string name) => named.Where(n => n.Name == name && n.Value is not null).Select(n => n.Value!).ToList();
}
