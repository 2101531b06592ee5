using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using MlxManager.Web.Tests.Infrastructure;

namespace MlxManager.Web.Tests.Hosting;

/// <summary>
/// Behind a TLS proxy, over real HTTP (Kestrel on loopback, so the proxy's address is 127.0.0.1): forwarded headers
/// from a known proxy give the sign-in rate limit the real client's address and make cookies Secure when the browser
/// used https; the same headers from an unknown address change nothing.
/// </summary>
public sealed partial class ProxyHostingTests
{
    private const string Loopback = "127.0.0.1";

    [Fact]
    public async Task KnownProxy_XForwardedFor_SelectsTheRateLimitPartition()
    {
        await using var app = NewApp(("KnownProxies:0", Loopback));
        using var http = KestrelApp.RawClient(app.StartOnKestrel());

        (await TokenAttemptAsync(http, "203.0.113.5")).ShouldBe(HttpStatusCode.Unauthorized);
        (await TokenAttemptAsync(http, "203.0.113.5")).ShouldBe(HttpStatusCode.Unauthorized);
        (await TokenAttemptAsync(http, "203.0.113.5")).ShouldBe(HttpStatusCode.TooManyRequests);

        (await TokenAttemptAsync(http, "198.51.100.7")).ShouldBe(HttpStatusCode.Unauthorized, "another client behind the same proxy has its own limit");
    }

    [Fact]
    public async Task KnownNetwork_XForwardedProtoHttps_MakesTheAntiforgeryAndSessionCookiesSecure()
    {
        await using var app = NewApp(("KnownNetworks:0", "127.0.0.0/8"));
        var baseAddress = app.StartOnKestrel();
        await app.CreateUserAsync("proxied@example.com");
        using var http = KestrelApp.RawClient(baseAddress);

        var (antiforgery, session) = await SignInAsync(http, "proxied@example.com", forwardedProto: "https");

        antiforgery.ShouldContain("secure", Case.Insensitive);
        session.ShouldContain("secure", Case.Insensitive);
    }

    [Fact]
    public async Task UnknownProxy_ForwardedHeadersAreIgnored()
    {
        await using var app = NewApp(("KnownProxies:0", "10.9.9.9"));
        var baseAddress = app.StartOnKestrel();
        await app.CreateUserAsync("direct@example.com");
        using var http = KestrelApp.RawClient(baseAddress);

        var (antiforgery, session) = await SignInAsync(http, "direct@example.com", forwardedProto: "https");
        (await TokenAttemptAsync(http, "203.0.113.5")).ShouldBe(HttpStatusCode.Unauthorized);
        var limited = await TokenAttemptAsync(http, "198.51.100.7");

        antiforgery.ShouldNotContain("secure", Case.Insensitive);
        session.ShouldNotContain("secure", Case.Insensitive);
        limited.ShouldBe(HttpStatusCode.TooManyRequests, "every attempt counts against the connection's own address");
    }

    [Fact]
    public async Task RequireHttpsCookies_MarksCookiesSecureEvenOverPlainHttp()
    {
        await using var app = NewApp(("RequireHttpsCookies", "true"));
        var baseAddress = app.StartOnKestrel();
        await app.CreateUserAsync("always@example.com");
        using var http = KestrelApp.RawClient(baseAddress);

        var (antiforgery, session) = await SignInAsync(http, "always@example.com", forwardedProto: null);

        antiforgery.ShouldContain("secure", Case.Insensitive);
        session.ShouldContain("secure", Case.Insensitive);
    }

    private static MlxManagerFactory NewApp(params (string Key, string Value)[] proxy)
    {
        var app = new MlxManagerFactory();
        app.Settings["MlxManager:RateLimits:SignIn:PermitLimit"] = "2";
        foreach (var (key, value) in proxy)
        {
            app.Settings["MlxManager:Proxy:" + key] = value;
        }
        return app;
    }

    private static async Task<HttpStatusCode> TokenAttemptAsync(HttpClient http, string forwardedFor)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/auth/token")
        {
            Content = JsonContent.Create(new { email = "nobody@example.com", password = "wrong password" }),
        };
        request.Headers.Add("X-Forwarded-For", forwardedFor);
        using var response = await http.SendAsync(request);
        return response.StatusCode;
    }

    /// <summary>Loads the login form and signs in as a browser would; returns the Set-Cookie lines of both cookies.</summary>
    private static async Task<(string Antiforgery, string Session)> SignInAsync(HttpClient http, string email, string? forwardedProto)
    {
        using var form = new HttpRequestMessage(HttpMethod.Get, "/login");
        Forward(form, forwardedProto);
        using var page = await http.SendAsync(form);
        page.StatusCode.ShouldBe(HttpStatusCode.OK);
        var antiforgery = page.Headers.GetValues("Set-Cookie").Single(cookie => cookie.StartsWith("mlxmanager.antiforgery=", StringComparison.Ordinal));
        var token = WebUtility.HtmlDecode(FormToken().Match(await page.Content.ReadAsStringAsync()).Groups[1].Value);

        using var post = new HttpRequestMessage(HttpMethod.Post, "/login")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["Input.Email"] = email,
                ["Input.Password"] = TestPasswords.Default,
                ["__RequestVerificationToken"] = token,
            }),
        };
        Forward(post, forwardedProto);
        post.Headers.Add("Cookie", antiforgery.Split(';')[0]);
        using var signedIn = await http.SendAsync(post);
        signedIn.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        var session = signedIn.Headers.GetValues("Set-Cookie").Single(cookie => cookie.StartsWith("mlxmanager.session=", StringComparison.Ordinal));
        return (antiforgery, session);
    }

    private static void Forward(HttpRequestMessage request, string? proto)
    {
        if (proto is not null)
        {
            request.Headers.Add("X-Forwarded-Proto", proto);
        }
    }

    [GeneratedRegex("<input[^>]*name=\"__RequestVerificationToken\"[^>]*value=\"([^\"]+)\"")]
    private static partial Regex FormToken();
}
