using System.Net;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;
using Microsoft.Extensions.DependencyInjection;
using MlxManager.Web.Tests.Infrastructure;

namespace MlxManager.Web.Tests.Hosting;

/// <summary>
/// Every endpoint the app maps must refuse anonymous callers (pages: redirect to /login; /api: 401)
/// unless it is on <see cref="AnonymousAllowlist"/>. A page added without thinking is protected by the
/// fallback policy; a forgotten or careless [AllowAnonymous] fails here.
/// </summary>
public sealed class EndpointProtectionTests : IClassFixture<MlxManagerFactory>
{
    /// <summary>Route patterns anonymous users may reach, each with the reason.</summary>
    private static readonly Dictionary<string, string> AnonymousAllowlist = new()
    {
        ["/login"] = "the sign-in form",
        ["/register"] = "the registration form",
        ["/error"] = "the error page shown to anyone",
        ["/status/{code:int}"] = "status pages (404, 403, 429) shown to anyone",
        ["/_htmx/antiforgery.js"] = "static script the login page loads",
        ["/api/auth/token"] = "API sign-in",
    };

    private readonly MlxManagerFactory _app;

    public EndpointProtectionTests(MlxManagerFactory app) => _app = app;

    public static IEnumerable<object[]> Endpoints()
    {
        using var app = new MlxManagerFactory();
        return EnumerateRoutes(app).Select(route => new object[] { route.Method, route.Pattern }).ToList();
    }

    [Theory]
    [MemberData(nameof(Endpoints))]
    public async Task Endpoint_Anonymous_IsRefusedUnlessAllowlisted(string method, string pattern)
    {
        if (AnonymousAllowlist.ContainsKey(pattern))
        {
            return;
        }
        using var client = _app.CreateAppClient();
        var url = SampleUrl(pattern);

        var response = await client.Http.SendAsync(new HttpRequestMessage(new HttpMethod(method), url));

        if (url.StartsWith("/v1/", StringComparison.Ordinal))
        {
            // The OpenAI-compatible gateway answers in OpenAI's error shape (see Gateway/GatewayTests).
            response.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
            (await response.Content.ReadAsStringAsync()).ShouldContain("\"invalid_api_key\"");
        }
        else if (url.StartsWith("/api/", StringComparison.Ordinal))
        {
            await response.ShouldBeProblemAsync(HttpStatusCode.Unauthorized);
        }
        else
        {
            response.ShouldRedirectToLogin(url);
        }
    }

    [Fact]
    public void Allowlist_OnlyNamesEndpointsThatExist()
    {
        var patterns = EnumerateRoutes(_app).Select(route => route.Pattern).ToHashSet();

        AnonymousAllowlist.Keys.ShouldAllBe(pattern => patterns.Contains(pattern));
    }

    [Fact]
    public void Enumeration_FindsThePagesAndTheApi()
    {
        var patterns = EnumerateRoutes(_app).Select(route => route.Pattern).ToHashSet();

        new[] { "/", "/models", "/profiles", "/servers", "/chat/{id:int?}", "/mcp/", "/chat/turns/{turnId:guid}/events", "/admin/users", "/admin/mcp-servers", "/pending", "/logout", "/api/me", "/admin/jobs/{**path}", "/v1/chat/completions", "/v1/models" }
            .ShouldAllBe(pattern => patterns.Contains(pattern));
    }

    [Theory]
    [InlineData("/login")]
    [InlineData("/register")]
    [InlineData("/css/site.css")]
    [InlineData("/js/site.js")]
    [InlineData("/lib/htmx/htmx.min.js")]
    [InlineData("/lib/pico/pico.min.css")]
    [InlineData("/_htmx/antiforgery.js")]
    public async Task AllowlistedPagesAndStaticFiles_AreServedAnonymously(string url)
    {
        using var client = _app.CreateAppClient();

        (await client.GetAsync(url)).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    private static IEnumerable<(string Method, string Pattern)> EnumerateRoutes(MlxManagerFactory app)
    {
        var sources = app.Services.GetServices<EndpointDataSource>();
        foreach (var endpoint in sources.SelectMany(source => source.Endpoints).OfType<RouteEndpoint>())
        {
            var pattern = "/" + (endpoint.RoutePattern.RawText ?? "").TrimStart('/');
            var methods = endpoint.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods;
            foreach (var method in methods is { Count: > 0 } ? methods : ["GET", "POST"])
            {
                yield return (method, pattern);
            }
        }
    }

    private static string SampleUrl(string pattern)
    {
        var parsed = RoutePatternFactory.Parse(pattern);
        var segments = parsed.PathSegments.Select(segment => string.Concat(segment.Parts.Select(part => part switch
        {
            RoutePatternLiteralPart literal => literal.Content,
            RoutePatternSeparatorPart separator => separator.Content,
            RoutePatternParameterPart { IsCatchAll: true } => "",
            RoutePatternParameterPart parameter when parameter.ParameterPolicies.Any(policy => policy.Content == "int") => "1",
            RoutePatternParameterPart => "sample",
            _ => "",
        })));
        return "/" + string.Join('/', segments).TrimEnd('/');
    }
}
