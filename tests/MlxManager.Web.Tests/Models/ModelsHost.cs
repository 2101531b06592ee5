using System.Net;
using System.Net.Sockets;
using MlxManager.HubEmulator;
using MlxManager.ModelFixtures;
using MlxManager.Web.Tests.Infrastructure;

namespace MlxManager.Web.Tests.Models;

/// <summary>
/// The app wired to a HubEmulator serving <see cref="FixtureCatalog.Small"/> (through HF_ENDPOINT-equivalent
/// configuration) and to a temp HF cache holding some fixtures, as a user would configure a real machine.
/// </summary>
public sealed class ModelsHost : IAsyncDisposable
{
    public const string HubToken = "hf_emulator_token_9876";

    private static readonly Lazy<string> SharedHubRoot = new(() =>
    {
        var root = Path.Combine(Path.GetTempPath(), "mlx-manager-tests", "hub-root-" + Guid.NewGuid().ToString("N"));
        HubRootWriter.WriteAll(root, FixtureCatalog.Small);
        return root;
    });

    private ModelsHost(MlxManagerFactory app, HubEmulatorHost? hub, string cache)
    {
        App = app;
        Hub = hub;
        HubCache = cache;
    }

    public MlxManagerFactory App { get; }

    /// <summary>Null when the host was started with the Hub down.</summary>
    public HubEmulatorHost? Hub { get; }

    public string HubCache { get; }

    public static async Task<ModelsHost> StartAsync(IEnumerable<FixtureSpec>? cached = null, bool hubDown = false, bool offline = false, Action<MlxManagerFactory>? configure = null)
    {
        var hub = hubDown ? null : await HubEmulatorHost.StartAsync(new HubEmulatorOptions { Root = SharedHubRoot.Value, Token = HubToken });
        var app = new MlxManagerFactory();
        var cache = Path.Combine(app.DataFolder.Path, "hf-cache");
        Directory.CreateDirectory(cache);
        foreach (var spec in cached ?? [])
        {
            HfCacheWriter.Write(cache, spec);
        }

        app.UseHuggingFace(hub?.BaseUrl ?? $"http://127.0.0.1:{ClosedPort()}", cache, offline);
        app.Settings["MlxManager:Hub:MaxAttempts"] = "2";
        app.Settings["MlxManager:Hub:RetryBaseDelay"] = "00:00:00.020";
        app.Settings["MlxManager:Library:ChangeCheckInterval"] = "00:00:00";
        configure?.Invoke(app);
        return new ModelsHost(app, hub, cache);
    }

    /// <summary>A signed-in browser-like client (admin or ordinary user).</summary>
    public async Task<AppClient> SignInAsync(string email, bool admin)
    {
        await App.CreateUserAsync(email, admin: admin);
        var client = App.CreateAppClient();
        await client.SignInAsync(email);
        return client;
    }

    /// <summary>The results fragment as htmx asks for it.</summary>
    public static async Task<HttpResponseMessage> FragmentAsync(AppClient client, string url)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Add("HX-Request", "true");
        return await client.Http.SendAsync(request);
    }

    /// <summary>Asks for the fragment until no tile is still being detected; returns the final HTML.</summary>
    public static Task<string> SettledFragmentAsync(AppClient client, string url, TimeSpan? timeout = null) =>
        Eventually.ValueAsync(
            async () =>
            {
                var response = await FragmentAsync(client, url);
                response.StatusCode.ShouldBe(HttpStatusCode.OK);
                return await response.Content.ReadAsStringAsync();
            },
            html => !html.Contains("data-polling=\"true\"", StringComparison.Ordinal),
            timeout ?? TimeSpan.FromSeconds(30),
            $"detection of {url} settles");

    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    public async ValueTask DisposeAsync()
    {
        await App.DisposeAsync();
        if (Hub is not null)
        {
            await Hub.DisposeAsync();
        }
    }
}
