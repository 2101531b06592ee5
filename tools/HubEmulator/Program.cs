using System.Globalization;
using MlxManager.HubEmulator;
using MlxManager.ModelFixtures;

const string Usage = """
    usage: HubEmulator --root <folder> [--port <p>] [--cdn-port <p>] [--token <t>] [--seed] [--seed-large]
                       [--tree-page-size <n>] [--search-page-size <n>] [--quiet]

      --root <folder>        repos live in <folder>/<org>/<name>/ (with an optional .hub.json sidecar)
      --port <p>             Hub port on 127.0.0.1 (default 8765; 0 = any free port)
      --cdn-port <p>         CDN port for LFS downloads (default 0 = any free port)
      --token <t>            the token that may read gated and private repos
      --seed                 write the small fixture catalogue into an empty root
      --seed-large           also write the ~210 MB three-shard fixture
      --tree-page-size <n>   items per page of /api/models/{id}/tree (default 1000)
      --search-page-size <n> items per page of /api/models without limit (default 1000)
      --quiet                no per-request lines on stdout

    Point clients at it with HF_ENDPOINT=http://127.0.0.1:<port>.
    """;

if (args.Contains("-h") || args.Contains("--help"))
{
    Console.WriteLine(Usage);
    return 0;
}

string? root = null, token = null;
int port = 8765, cdnPort = 0, treePage = 1000, searchPage = 1000;
bool seed = false, seedLarge = false, quiet = false;
try
{
    for (int i = 0; i < args.Length; i++)
    {
        string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
        int NextInt() => int.Parse(Next(), NumberStyles.None, CultureInfo.InvariantCulture);
        switch (args[i])
        {
            case "--root": root = Next(); break;
            case "--port": port = NextInt(); break;
            case "--cdn-port": cdnPort = NextInt(); break;
            case "--token": token = Next(); break;
            case "--seed": seed = true; break;
            case "--seed-large": seed = seedLarge = true; break;
            case "--tree-page-size": treePage = NextInt(); break;
            case "--search-page-size": searchPage = NextInt(); break;
            case "--quiet": quiet = true; break;
            default: throw new ArgumentException($"unknown argument '{args[i]}'");
        }
    }
    if (root is null) throw new ArgumentException("--root is required");
}
catch (Exception e) when (e is ArgumentException or FormatException or OverflowException)
{
    Console.Error.WriteLine($"error: {e.Message}\n\n{Usage}");
    return 2;
}

Directory.CreateDirectory(root);
if (seed)
{
    bool empty = !Directory.EnumerateFileSystemEntries(root).Any();
    var specs = FixtureCatalog.Small.ToList();
    if (seedLarge) specs.Add(FixtureCatalog.Large);
    // Never overwrite a root someone filled: only seed an empty one (or add the large fixture if it is missing).
    var missing = empty ? specs : specs.Where(s => seedLarge && s == FixtureCatalog.Large && !Directory.Exists(Path.Combine(root, s.Org, s.Name))).ToList();
    foreach (var spec in missing)
    {
        var repo = HubRootWriter.Write(root, spec);
        Console.WriteLine($"seeded {spec.RepoId,-52} {repo.Files.Count,3} files  {repo.WeightBytes / 1024.0 / 1024,7:F1} MB weights");
    }
    if (missing.Count == 0) Console.WriteLine($"{root} is not empty; not seeding");
}

try
{
    await using var host = await HubEmulatorHost.StartAsync(new HubEmulatorOptions
    {
        Root = root,
        Port = port,
        CdnPort = cdnPort,
        Token = token,
        TreePageSize = treePage,
        SearchPageSize = searchPage,
        LogToConsole = !quiet,
    });
    Console.WriteLine($"Hub emulator: {host.BaseUrl}  (CDN {host.CdnBaseUrl})");
    Console.WriteLine($"  export HF_ENDPOINT={host.BaseUrl}");
    if (token is not null) Console.WriteLine("  gated repos need: export HF_TOKEN=<the --token value>");
    Console.WriteLine("  Ctrl+C to stop");
    // Hash the weights in the background so the first download does not wait for it.
    _ = Task.Run(() =>
    {
        try
        {
            host.Warm();
        }
        catch (IOException e)
        {
            Console.Error.WriteLine($"warning: could not hash every file up front: {e.Message}");
        }
    });
    await host.WaitForShutdownAsync();
    return 0;
}
catch (IOException e)
{
    Console.Error.WriteLine($"error: cannot start: {e.Message}");
    return 1;
}
