using MlxManager.Core.Hub;
using MlxManager.Core.Library;
using MlxManager.HubEmulator;
using MlxManager.ModelFixtures;

namespace MlxManager.Core.Tests.Hub;

/// <summary>The small fixture catalogue written once into a HubEmulator root; each test starts its own emulator on it.</summary>
public sealed class HubRootFixture : IDisposable
{
    public const string Token = "hf_test_token_1234";

    public HubRootFixture()
    {
        Root = Path.Combine(Path.GetTempPath(), "mlxm-hubroot-" + Guid.NewGuid().ToString("N"));
        Repos = HubRootWriter.WriteAll(Root, FixtureCatalog.Small);
    }

    public string Root { get; }

    public IReadOnlyList<WrittenRepo> Repos { get; }

    public Task<HubEmulatorHost> StartAsync(Func<HubEmulatorOptions, HubEmulatorOptions>? configure = null)
    {
        var options = new HubEmulatorOptions { Root = Root, Token = Token };
        return HubEmulatorHost.StartAsync(configure?.Invoke(options) ?? options);
    }

    /// <summary>A client with short back-off so retry tests stay fast.</summary>
    public static HubClient Client(string endpoint, string? token = null, bool offline = false, HubClientOptions? options = null, IStoredHubToken? stored = null)
    {
        var variables = new Dictionary<string, string?>
        {
            ["HF_ENDPOINT"] = endpoint,
            ["HF_HOME"] = Path.Combine(Path.GetTempPath(), "mlxm-no-hf-home-" + Guid.NewGuid().ToString("N")),
            ["HF_TOKEN"] = token,
            ["HF_HUB_OFFLINE"] = offline ? "1" : null,
        };
        var environment = HfEnvironment.Resolve(name => variables.GetValueOrDefault(name), Path.GetTempPath());
        options ??= FastRetries();
        var http = new HttpClient(HubResilience.CreateHandler(options)) { Timeout = Timeout.InfiniteTimeSpan };
        return new HubClient(http, new HubConnectionSource(environment, stored), options);
    }

    public static HubClientOptions FastRetries() => new()
    {
        MaxAttempts = 4,
        RetryBaseDelay = TimeSpan.FromMilliseconds(20),
        RetryMaxDelay = TimeSpan.FromMilliseconds(200),
        RequestTimeout = TimeSpan.FromSeconds(10),
    };

    public void Dispose()
    {
        if (Directory.Exists(Root))
        {
            Directory.Delete(Root, recursive: true);
        }
    }
}
