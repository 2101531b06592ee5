using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace MlxManager.Web.Tests.Infrastructure;

/// <summary>The factory's app on a real Kestrel port (loopback), for tests that need real HTTP: client addresses, raw headers.</summary>
public static class KestrelApp
{
    /// <summary>Starts the host on a free port and returns its base address (<c>http://127.0.0.1:port/</c>).</summary>
    public static Uri StartOnKestrel(this MlxManagerFactory app)
    {
        app.UseKestrel(0);
        app.StartServer();
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
        return new Uri(addresses.First(address => address.StartsWith("http://", StringComparison.Ordinal)).Replace("[::]", "127.0.0.1", StringComparison.Ordinal) + "/");
    }

    /// <summary>A browser-like client over real HTTP (keeps cookies, no redirects), optionally as if behind a proxy for <paramref name="forwardedFor"/>.</summary>
    public static AppClient BrowserClient(Uri baseAddress, string? forwardedFor = null)
    {
        var http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, UseProxy = false, CookieContainer = new System.Net.CookieContainer() }) { BaseAddress = baseAddress };
        if (forwardedFor is not null)
        {
            http.DefaultRequestHeaders.Add("X-Forwarded-For", forwardedFor);
        }
        return new AppClient(http);
    }

    /// <summary>A client that neither follows redirects nor keeps cookies (the test reads and sends them itself).</summary>
    public static HttpClient RawClient(Uri baseAddress) =>
        new(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false, UseProxy = false }) { BaseAddress = baseAddress };
}
