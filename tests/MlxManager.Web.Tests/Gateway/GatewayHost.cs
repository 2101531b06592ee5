using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using MlxManager.Core.Accounts;
using MlxManager.Core.Gateway;
using MlxManager.Core.Servers;
using MlxManager.Web.Endpoints;
using MlxManager.Web.Tests.Infrastructure;
using MlxManager.Web.Tests.Servers.Infrastructure;

namespace MlxManager.Web.Tests.Gateway;

/// <summary>
/// The real app on real Kestrel with the real supervisor starting EngineEmulator processes; clients call /v1 over HTTP
/// with a token from POST /api/auth/token, exactly like an OpenAI SDK would.
/// </summary>
public class GatewayHost : IAsyncLifetime
{
    private int _users;

    public GatewayHost()
    {
        EngineWorld.Instance.Configure(App);
        App.Settings["MlxManager:Gateway:LoadingNoticeInterval"] = "00:00:01";
        App.Settings["MlxManager:Gateway:MaxQueue"] = "2";
        App.Settings["MlxManager:Gateway:IdleCheckInterval"] = "00:00:00.5";
        // These tests keep many emulated servers running; admission is tested with a small budget (MemoryGatewayHost).
        App.Settings["MlxManager:Gateway:MemoryBudget"] = (1L << 40).ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    public MlxManagerFactory App { get; } = new();

    public Uri BaseUrl { get; private set; } = null!;

    public ServerSupervisor Supervisor => App.Services.GetRequiredService<ServerSupervisor>();

    public GatewayLanes Lanes => App.Services.GetRequiredService<GatewayLanes>();

    public Task InitializeAsync()
    {
        App.UseKestrel(0);
        App.StartServer();
        var addresses = App.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
        BaseUrl = new Uri(addresses.First(a => a.StartsWith("http://", StringComparison.Ordinal)).Replace("[::]", "127.0.0.1", StringComparison.Ordinal));
        return Task.CompletedTask;
    }

    /// <summary>An HTTP client without credentials.</summary>
    public HttpClient Anonymous() => new() { BaseAddress = BaseUrl, Timeout = TimeSpan.FromMinutes(3) };

    /// <summary>A new active account's client, with a bearer token obtained as the README says.</summary>
    public async Task<HttpClient> NewClientAsync() => (await NewAccountAsync()).Client;

    /// <inheritdoc cref="NewClientAsync"/>
    public async Task<(HttpClient Client, AppUser User)> NewAccountAsync()
    {
        var email = $"gateway-user-{Interlocked.Increment(ref _users)}@example.com";
        var user = await App.CreateUserAsync(email);
        var http = Anonymous();
        var token = await (await http.PostAsJsonAsync("/api/auth/token", new { email, password = TestPasswords.Default }))
            .EnsureSuccessStatusCode().Content.ReadFromJsonAsync<TokenResponse>();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token!.AccessToken);
        return (http, user);
    }

    public async Task DisposeAsync() => await App.DisposeAsync();

    /// <summary>A chat completion body for <paramref name="model"/>.</summary>
    public static JsonObject Chat(string model, string prompt, bool stream = false) => new()
    {
        ["model"] = model,
        ["stream"] = stream,
        ["max_tokens"] = 2048,
        ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = prompt }),
    };
}

/// <summary>A gateway host whose servers are unloaded after 2 s without requests.</summary>
public sealed class ShortIdleGatewayHost : GatewayHost
{
    public ShortIdleGatewayHost() => App.Settings["MlxManager:Gateway:DefaultIdleTimeout"] = "00:00:02";
}

/// <summary>
/// A gateway host whose memory budget holds two small-context fixture servers but not three: each counts for its
/// estimate (weights 3 MB + KV cache at 2K tokens + the 512 MiB engine overhead ≈ 0.52 GiB; an emulator measures far less).
/// </summary>
public sealed class MemoryGatewayHost : GatewayHost
{
    public const long Budget = 1288490188; // 1.2 GiB

    public MemoryGatewayHost() => App.Settings["MlxManager:Gateway:MemoryBudget"] = Budget.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
