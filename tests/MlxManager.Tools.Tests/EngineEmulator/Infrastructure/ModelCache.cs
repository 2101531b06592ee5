using MlxManager.ModelFixtures;

namespace MlxManager.Tools.Tests.EngineEmulator.Infrastructure;

/// <summary>A temporary HF cache holding the small fixtures (a few MB each), shared by the tests of a class.</summary>
public sealed class ModelCache : IDisposable
{
    public string Root { get; } = Directory.CreateTempSubdirectory("engine-hf-cache-").FullName;

    public ModelCache()
    {
        foreach (var spec in FixtureCatalog.Small) HfCacheWriter.Write(Root, spec);
    }

    /// <summary>The environment that points an engine at this cache, plus extra variables.</summary>
    public Dictionary<string, string> Environment(params (string Key, string Value)[] extra)
    {
        var env = new Dictionary<string, string> { ["HF_HUB_CACHE"] = Root, ["EMULATOR_TOKEN_RATE"] = "400", ["EMULATOR_PREFILL_RATE"] = "20000", ["EMULATOR_LOAD_RATE"] = "2G" };
        foreach (var (key, value) in extra) env[key] = value;
        return env;
    }

    public void Dispose() => Directory.Delete(Root, recursive: true);
}
