using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace MlxManager.EngineEmulator.Server;

/// <summary>Builds the Kestrel web app an emulated engine serves from: bound to the engine's host and port, no
/// ASP.NET console output (the engine writes its own), no Server header (each flavour sets its own), and a
/// request-line hook called when a response starts, which is when the real servers log a request.</summary>
public static class KestrelHost
{
    public static WebApplication Build(string host, int port, Action<HttpContext> onResponseStarting, Action<IServiceCollection>? services = null)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        builder.Services.AddHttpClient("media", c => c.Timeout = TimeSpan.FromSeconds(15));
        builder.Services.AddSingleton(TimeProvider.System);
        // A supervisor's SIGTERM should end the engine promptly even while a stream is open.
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(2));
        services?.Invoke(builder.Services);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = 512L * 1024 * 1024;
            kestrel.Limits.KeepAliveTimeout = TimeSpan.FromMinutes(10);
            void Protocols(ListenOptions o) => o.Protocols = HttpProtocols.Http1;
            switch (host)
            {
                case "localhost":
                    kestrel.ListenLocalhost(port, Protocols);
                    break;
                case "0.0.0.0" or "":
                    kestrel.Listen(IPAddress.Any, port, Protocols);
                    break;
                case "::":
                    kestrel.Listen(IPAddress.IPv6Any, port, Protocols);
                    break;
                default:
                    var address = IPAddress.TryParse(host, out var ip) ? ip : Dns.GetHostAddresses(host).First();
                    kestrel.Listen(address, port, Protocols);
                    break;
            }
        });
        var app = builder.Build();
        app.Use(async (context, next) =>
        {
            context.Response.OnStarting(() =>
            {
                onResponseStarting(context);
                return Task.CompletedTask;
            });
            await next(context);
        });
        return app;
    }

    /// <summary>Starts listening; false when the address is taken (the caller prints the engine's own error).</summary>
    public static async Task<bool> TryStartAsync(WebApplication app)
    {
        try
        {
            await app.StartAsync();
            return true;
        }
        catch (IOException e) when (e.InnerException is SocketException { SocketErrorCode: SocketError.AddressAlreadyInUse } || e.Message.Contains("address already in use", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }
    }

    public static string ClientAddress(HttpContext context)
    {
        var ip = context.Connection.RemoteIpAddress;
        if (ip is { IsIPv4MappedToIPv6: true }) ip = ip.MapToIPv4();
        return ip?.ToString() ?? "127.0.0.1";
    }

    public static string RequestLine(HttpContext context) =>
        $"{context.Request.Method} {context.Request.PathBase}{context.Request.Path}{context.Request.QueryString} {context.Request.Protocol}";
}
