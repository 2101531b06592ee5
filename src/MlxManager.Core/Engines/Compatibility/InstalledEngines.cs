namespace MlxManager.Core.Engines.Compatibility;

/// <summary>One engine on this machine: where its executable is (or why not), its version, and whether that is older than the lists.</summary>
/// <param name="ListsVersion">The version the architecture lists come from.</param>
public sealed record InstalledEngine(IEngineDefinition Engine, ExecutableResolution Resolution, EngineVersion? Version, string? ListsVersion)
{
    /// <summary>The installed engine predates the lists: some architectures they name may not load.</summary>
    public bool IsOlderThanLists => Version is { } v && ListsVersion is { } lists && EngineVersionReader.IsOlder(v.Value, lists);
}

/// <summary>Which engines are installed here (executable found) and which versions they are.</summary>
public sealed class InstalledEngines(EngineRegistry registry, EngineExecutableLocator locator, EngineCompatibility compatibility, EngineVersionReader versions)
{
    /// <summary>Keys of the engines whose executable is found now (no process started).</summary>
    public IReadOnlySet<string> Keys() =>
        registry.All.Where(e => locator.Resolve(e).IsFound).Select(e => e.Key).ToHashSet(StringComparer.Ordinal);

    /// <summary>Every engine with its executable and version (package metadata, else its version argument).</summary>
    public async Task<IReadOnlyList<InstalledEngine>> DescribeAsync(CancellationToken cancellationToken)
    {
        var lists = compatibility.Lists;
        var result = new List<InstalledEngine>();
        foreach (var engine in registry.All)
        {
            var resolution = locator.Resolve(engine);
            EngineVersion? version = null;
            if (resolution.ExecutablePath is { } path && lists.Engines.TryGetValue(engine.Key, out var loaders))
            {
                version = await versions.ReadAsync(path, loaders, cancellationToken).ConfigureAwait(false);
            }

            result.Add(new InstalledEngine(engine, resolution, version, lists.ListsVersionFor(engine.Key)));
        }

        return result;
    }
}
