using System.Net;
using MlxManager.Web.Tests.Infrastructure;

namespace MlxManager.Web.Tests.Hosting;

/// <summary>AUTH-04: what an anonymous request gets, by kind of request.</summary>
public sealed class UnauthenticatedRequestTests : IClassFixture<MlxManagerFactory>
{
    private readonly MlxManagerFactory _app;

    public UnauthenticatedRequestTests(MlxManagerFactory app) => _app = app;

    [Fact]
    public async Task PageRequest_RedirectsToLoginWithReturnUrl()
    {
        using var client = _app.CreateAppClient();

        var response = await client.GetAsync("/servers?tab=logs");

        response.ShouldRedirectToLogin("/servers?tab=logs");
    }

    [Fact]
    public async Task HtmxRequest_GetsHxRedirectToLoginForThePageInTheAddressBar()
    {
        using var client = _app.CreateAppClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/admin/users?handler=PendingBadge");
        request.Headers.Add("HX-Request", "true");
        request.Headers.Add("HX-Current-URL", "http://localhost/models?q=qwen");

        var response = await client.Http.SendAsync(request);

        response.StatusCode.ShouldBe(HttpStatusCode.NoContent);
        response.Headers.GetValues("HX-Redirect").Single().ShouldBe("/login?returnUrl=" + Uri.EscapeDataString("/models?q=qwen"));
        response.Headers.Location.ShouldBeNull();
        (await response.Content.ReadAsStringAsync()).ShouldBeEmpty();
    }

    [Fact]
    public async Task ApiRequest_Gets401ProblemDetails()
    {
        using var client = _app.CreateAppClient();

        var response = await client.GetAsync("/api/me");

        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.Unauthorized);
        problem.GetProperty("correlationId").GetString().ShouldNotBeNullOrEmpty();
        response.Headers.WwwAuthenticate.ToString().ShouldStartWith("Bearer");
    }

    [Fact]
    public async Task ApiRequest_WithSessionCookieButNoToken_Gets401()
    {
        await _app.CreateUserAsync("cookie-only@example.com");
        using var client = _app.CreateAppClient();
        await client.SignInAsync("cookie-only@example.com");

        var response = await client.GetAsync("/api/me");

        await response.ShouldBeProblemAsync(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task UnknownPage_Anonymous_RedirectsToLogin_SoAddressesRevealNothing()
    {
        using var client = _app.CreateAppClient();

        (await client.GetAsync("/no/such/page")).ShouldRedirectToLogin("/no/such/page");
    }

    [Fact]
    public async Task UnknownPage_SignedIn_Gets404Page()
    {
        await _app.CreateUserAsync("lost@example.com");
        using var client = _app.CreateAppClient();
        await client.SignInAsync("lost@example.com");

        var response = await client.GetAsync("/no/such/page");

        response.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await response.Content.ReadAsStringAsync()).ShouldContain("Page not found");
    }

    [Fact]
    public async Task UnknownApi_Anonymous_Gets401ProblemDetails()
    {
        using var client = _app.CreateAppClient();

        await (await client.GetAsync("/api/no-such-thing")).ShouldBeProblemAsync(HttpStatusCode.Unauthorized);
    }
}
