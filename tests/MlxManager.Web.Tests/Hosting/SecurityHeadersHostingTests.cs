using System.Net;
using MlxManager.Web.Hosting;
using MlxManager.Web.Tests.Infrastructure;

namespace MlxManager.Web.Tests.Hosting;

/// <summary>Every response carries the CSP, anti-framing, referrer and nosniff headers; endpoints with a stricter CSP keep theirs.</summary>
public sealed class SecurityHeadersHostingTests : IClassFixture<MlxManagerFactory>
{
    private readonly MlxManagerFactory _app;

    public SecurityHeadersHostingTests(MlxManagerFactory app) => _app = app;

    [Fact]
    public async Task PagesFragmentsErrorsStaticFilesAndApi_CarryTheSecurityHeaders()
    {
        await _app.CreateUserAsync("headers@example.com");
        using var anonymous = _app.CreateAppClient();
        using var member = _app.CreateAppClient();
        await member.SignInAsync("headers@example.com");

        var responses = new List<HttpResponseMessage>
        {
            await anonymous.GetAsync("/login"),
            await anonymous.GetAsync("/models"),
            await anonymous.GetAsync("/js/site.js"),
            await anonymous.GetAsync("/api/me"),
            await member.GetAsync("/"),
            await member.GetAsync("/servers?handler=Live"),
            await member.GetAsync("/no-such-page"),
            await member.GetAsync("/admin/users"),
        };

        foreach (var response in responses)
        {
            var what = $"{response.RequestMessage!.RequestUri!.PathAndQuery} ({(int)response.StatusCode})";
            var csp = string.Join(";", response.Headers.GetValues("Content-Security-Policy"));
            csp.ShouldBe(SecurityHeadersHosting.ContentSecurityPolicy, what);
            csp.ShouldContain("default-src 'self'");
            csp.ShouldContain("script-src 'self';");
            csp.ShouldContain("frame-ancestors 'none'");
            response.Headers.GetValues("X-Frame-Options").ShouldBe(["DENY"], what);
            response.Headers.GetValues("Referrer-Policy").ShouldBe(["same-origin"], what);
            response.Headers.GetValues("X-Content-Type-Options").ShouldBe(["nosniff"], what);
        }
    }

    [Fact]
    public async Task Layout_RunsHtmxWithoutEvalInlineScriptsOrInlineIndicatorStyles()
    {
        using var client = _app.CreateAppClient();

        var html = await client.GetHtmlAsync("/login");

        html.ShouldContain("\"allowEval\":false");
        html.ShouldContain("\"allowScriptTags\":false");
        html.ShouldContain("\"includeIndicatorStyles\":false");
        System.Text.RegularExpressions.Regex.Matches(html, "<script(?![^>]*\\ssrc=)").ShouldBeEmpty("no inline script");
    }

    [Fact]
    public void Views_HaveNoInlineScriptsEventHandlersOrEvaluatedTriggerFilters()
    {
        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (!File.Exists(Path.Combine(root.FullName, "MlxManager.sln")))
        {
            root = root.Parent ?? throw new InvalidOperationException("repository root not found");
        }
        var views = Directory.EnumerateFiles(Path.Combine(root.FullName, "src", "MlxManager.Web", "Pages"), "*.cshtml", SearchOption.AllDirectories).ToList();

        views.ShouldNotBeEmpty();
        foreach (var view in views)
        {
            var text = File.ReadAllText(view);
            System.Text.RegularExpressions.Regex.Matches(text, "<script(?![^>]*\\ssrc=)|\\son[a-z]+\\s*=\\s*[\"']|\\shx-on|javascript:|hx-trigger=\"[^\"]*\\[")
                .Select(match => match.Value).ShouldBeEmpty(view);
        }
    }
}
