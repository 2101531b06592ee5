using MlxManager.EngineEmulator.Installation;
using MlxManager.ModelFixtures;

namespace MlxManager.Core.Tests.Servers.Infrastructure;

[CollectionDefinition(Name)]
public sealed class ServersCollection : ICollectionFixture<EngineWorld>
{
    /// <summary>
    /// Supervisor tests start real engine processes; they share one set of launchers and one HF cache and run
    /// one class at a time (the machine's cores are few).
    /// </summary>
    public const string Name = "Servers";
}

/// <summary>
/// What an engine needs on a machine without MLX: the EngineEmulator installed as launchers (exec and wrapper
/// kinds, exactly as a user would install them) and an HF cache holding the fixture models (small ones and the
/// ≈210 MB one). Created once per test run.
/// </summary>
public sealed class EngineWorld : IDisposable
{
    public EngineWorld()
    {
        Root = Directory.CreateTempSubdirectory("mlxm-engine-world-").FullName;
        ExecLaunchers = Path.Combine(Root, "bin");
        WrapperLaunchers = Path.Combine(Root, "bin-wrapper");
        HubCache = Path.Combine(Root, "hf", "hub");
        Directory.CreateDirectory(HubCache);
        var dll = typeof(LauncherInstaller).Assembly.Location;
        LauncherInstaller.Install(ExecLaunchers, LauncherKind.Exec, dll);
        LauncherInstaller.Install(WrapperLaunchers, LauncherKind.Wrapper, dll);
        foreach (var spec in FixtureCatalog.Small)
        {
            HfCacheWriter.Write(HubCache, spec);
        }

        HfCacheWriter.Write(HubCache, FixtureCatalog.Large);
    }

    public string Root { get; }

    public string ExecLaunchers { get; }

    public string WrapperLaunchers { get; }

    public string HubCache { get; }

    /// <summary>The launcher of <paramref name="engine"/> (an executable name such as <c>mlx_lm.server</c>).</summary>
    public string Launcher(string engine, bool wrapper = false) => Path.Combine(wrapper ? WrapperLaunchers : ExecLaunchers, engine);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException e)
        {
            Console.Error.WriteLine($"Could not delete {Root}: {e.Message}");
        }
    }
}
