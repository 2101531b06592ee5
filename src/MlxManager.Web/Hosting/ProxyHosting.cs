using System.Net;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.Options;

namespace MlxManager.Web.Hosting;

/// <summary>Settings under <c>MlxManager:Proxy</c>: the TLS proxy in front of the app, if any.</summary>
public sealed class ProxyOptions
{
    public const string Section = "MlxManager:Proxy";

    /// <summary>Addresses of proxies whose <c>X-Forwarded-For</c>/<c>X-Forwarded-Proto</c> are believed (e.g. <c>127.0.0.1</c>).</summary>
    public List<string> KnownProxies { get; set; } = [];

    /// <summary>Networks (CIDR, e.g. <c>10.0.0.0/8</c>) whose every address is such a proxy.</summary>
    public List<string> KnownNetworks { get; set; } = [];

    /// <summary>Mark every cookie <c>Secure</c>, even on a plain-HTTP request (set when the app is only reached over https).</summary>
    public bool RequireHttpsCookies { get; set; }
}

/// <summary>
/// Behind a TLS proxy: <c>X-Forwarded-For</c> and <c>X-Forwarded-Proto</c> from a known proxy become the request's
/// client address (so the sign-in rate limit and lockout count per real client, not per proxy) and scheme (so
/// cookies get <c>Secure</c> when the browser used https). Headers from anyone else are ignored: with no proxy
/// configured, not even loopback is believed. Cookies (session, antiforgery, temp data) are <c>Secure</c> whenever
/// the original request was https, or always with <see cref="ProxyOptions.RequireHttpsCookies"/>.
/// </summary>
public static class ProxyHosting
{
    public static WebApplicationBuilder AddProxy(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<ProxyOptions>().BindConfiguration(ProxyOptions.Section);
        builder.Services.AddOptions<ForwardedHeadersOptions>().Configure<IOptions<ProxyOptions>>((forwarded, proxy) =>
        {
            forwarded.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
            forwarded.ForwardLimit = null; // a chain of known proxies is walked back to the first unknown address
            forwarded.KnownProxies.Clear();
            forwarded.KnownIPNetworks.Clear();
            foreach (var address in proxy.Value.KnownProxies)
            {
                forwarded.KnownProxies.Add(IPAddress.TryParse(address, out var parsed)
                    ? parsed
                    : throw new OptionsValidationException(ProxyOptions.Section, typeof(ProxyOptions),
                        [$"{ProxyOptions.Section}:KnownProxies: '{address}' is not an IP address."]));
            }
            foreach (var network in proxy.Value.KnownNetworks)
            {
                forwarded.KnownIPNetworks.Add(System.Net.IPNetwork.TryParse(network, out var parsed)
                    ? parsed
                    : throw new OptionsValidationException(ProxyOptions.Section, typeof(ProxyOptions),
                        [$"{ProxyOptions.Section}:KnownNetworks: '{network}' is not a network like 10.0.0.0/8."]));
            }
        });
        builder.Services.AddOptions<CookiePolicyOptions>().Configure<IOptions<ProxyOptions>>((cookies, proxy) =>
            cookies.Secure = proxy.Value.RequireHttpsCookies ? CookieSecurePolicy.Always : CookieSecurePolicy.SameAsRequest);
        return builder;
    }

    /// <summary>First in the pipeline: everything after it sees the client's address and scheme.</summary>
    public static WebApplication UseProxy(this WebApplication app)
    {
        app.UseForwardedHeaders();
        app.UseCookiePolicy();
        return app;
    }
}
