using System.Net;
using System.Net.Http.Json;
using MlxManager.Web.Tests.Infrastructure;

namespace MlxManager.Web.Tests.Hosting;

public sealed class RateLimitsHostingTests : IAsyncLifetime
{
    private readonly MlxManagerFactory _app = new();

    public Task InitializeAsync()
    {
        _app.Settings["MlxManager:RateLimits:SignIn:PermitLimit"] = "3";
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task SignInAttempts_BeyondTheLimit_Get429_WhileTheFormStillLoads()
    {
        using var client = _app.CreateAppClient();
        for (var attempt = 0; attempt < 3; attempt++)
        {
            (await client.LoginAsync("nobody@example.com", "wrong password")).StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        var limited = await client.LoginAsync("nobody@example.com", "wrong password");

        limited.StatusCode.ShouldBe(HttpStatusCode.TooManyRequests);
        (await limited.Content.ReadAsStringAsync()).ShouldContain("Too many attempts");
        limited.Headers.RetryAfter.ShouldNotBeNull();
        (await client.GetAsync("/login")).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await client.RegisterAsync("new@example.com")).StatusCode.ShouldBe(HttpStatusCode.TooManyRequests);
        var api = await client.Http.PostAsJsonAsync("/api/auth/token", new { email = "nobody@example.com", password = "wrong password" });
        await api.ShouldBeProblemAsync(HttpStatusCode.TooManyRequests);
    }
}
