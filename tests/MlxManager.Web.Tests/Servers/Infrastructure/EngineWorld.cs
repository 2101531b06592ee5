using MlxManager.EngineEmulator.Installation;
using MlxManager.Web.Tests.Infrastructure;
using MlxManager.ModelFixtures;

namespace MlxManager.Web.Tests.Servers.Infrastructure;

/// <summary>
/// The EngineEmulator installed as launchers (exactly as a user would) and an HF cache with the small fixture
/// models, once per test run; <see cref="Configure"/> points an app at them through its ordinary settings.
/// </summary>
public sealed class EngineWorld
{
    private static readonly Lazy<EngineWorld> Shared = new(() => new EngineWorld());

    private EngineWorld()
    {
        Root = Directory.CreateTempSubdirectory("mlxm-web-engine-world-").FullName;
        Launchers = Path.Combine(Root, "bin");
        HubCache = Path.Combine(Root, "hf", "hub");
        Directory.CreateDirectory(HubCache);
        LauncherInstaller.Install(Launchers, LauncherKind.Exec, typeof(LauncherInstaller).Assembly.Location);
        foreach (var spec in FixtureCatalog.Small)
        {
            HfCacheWriter.Write(HubCache, spec);
        }

        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try
            {
                Directory.Delete(Root, recursive: true);
            }
            catch (IOException)
            {
                // Left for the OS temp cleaner.
            }
        };
    }

    public static EngineWorld Instance => Shared.Value;

    public string Root { get; }

    public string Launchers { get; }

    public string HubCache { get; }

    /// <summary>Engine paths, the HF cache, fast metrics, and servers stopped when the test host stops.</summary>
    public void Configure(MlxManagerFactory app, bool stopServersOnExit = true)
    {
        app.Settings["MlxManager:HuggingFace:HubCache"] = HubCache;
        foreach (var engine in new[] { "mlx_lm.server", "mlx_vlm.server", "mlx-openai-server" })
        {
            app.Settings[$"MlxManager:Engines:{engine}:Path"] = Path.Combine(Launchers, engine);
        }

        app.Settings["MlxManager:Metrics:Interval"] = "00:00:00.5";
        app.Settings["MlxManager:Servers:StopServersOnExit"] = stopServersOnExit ? "true" : "false";
        app.Settings["MlxManager:Servers:StopGracePeriod"] = "00:00:05";
    }

    /// <summary>Fast emulator rates for a profile's environment variables.</summary>
    public const string FastEngine = "EMULATOR_LOAD_RATE=2G\nEMULATOR_TOKEN_RATE=400\nEMULATOR_PREFILL_RATE=20000";
}
