using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using MlxManager.Core.Chat.Servers;
using MlxManager.Web.Tests.Infrastructure;

namespace MlxManager.Web.Tests.Chat.Infrastructure;

/// <summary>
/// The real app on real Kestrel (the chat's MCP client calls the app's own /mcp over loopback) with
/// <see cref="EmulatedServers"/> as its server directory. One per test class.
/// </summary>
public class ChatHost : IAsyncLifetime
{
    private int _users;

    public ChatHost()
        : this(new MlxManagerFactory())
    {
    }

    /// <summary>A host around <paramref name="app"/> (e.g. one on a data folder another host used).</summary>
    public ChatHost(MlxManagerFactory app, EmulatedServers? servers = null)
    {
        App = app;
        Servers = servers ?? new EmulatedServers();
        App.ConfigureServices = services => services.AddSingleton<IChatServerDirectory>(Servers);
    }

    public EmulatedServers Servers { get; }

    public MlxManagerFactory App { get; }

    /// <summary>The Kestrel address.</summary>
    public Uri BaseUrl { get; private set; } = null!;

    /// <summary>Extra settings (e.g. <c>MlxManager:Chat:MaxToolRounds</c>), before the first use.</summary>
    public Dictionary<string, string?> Settings => App.Settings;

    public virtual Task InitializeAsync()
    {
        App.UseKestrel(0);
        App.StartServer();
        var addresses = App.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
        BaseUrl = new Uri(addresses.First(a => a.StartsWith("http://", StringComparison.Ordinal)).Replace("[::]", "127.0.0.1", StringComparison.Ordinal));
        return Task.CompletedTask;
    }

    /// <summary>A new active account (an admin when <paramref name="admin"/>), signed in.</summary>
    public async Task<ChatClient> NewUserAsync(bool admin = false)
    {
        var email = $"chat-user-{Interlocked.Increment(ref _users)}@example.com";
        await App.CreateUserAsync(email, admin: admin);
        var http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = true, CookieContainer = new System.Net.CookieContainer() })
        {
            BaseAddress = BaseUrl,
            Timeout = TimeSpan.FromMinutes(2),
        };
        var client = new ChatClient(new AppClient(http), App) { Email = email };
        await client.App.SignInAsync(email);
        return client;
    }

    public virtual async Task DisposeAsync()
    {
        await App.DisposeAsync();
        await Servers.DisposeAsync();
    }
}
