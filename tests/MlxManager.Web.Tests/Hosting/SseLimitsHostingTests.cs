using System.Net;
using MlxManager.Web.Tests.Infrastructure;

namespace MlxManager.Web.Tests.Hosting;

/// <summary>
/// Each account holds at most <c>MlxManager:Web:MaxSseConnectionsPerUser</c> event streams open, across every SSE
/// endpoint (servers, downloads, chat turns); over the cap a stream gets 429 problem details. Real Kestrel, real
/// streams: a slot comes back when the browser closes one.
/// </summary>
public sealed class SseLimitsHostingTests : IAsyncLifetime
{
    private readonly MlxManagerFactory _app = new();
    private Uri _baseAddress = null!;

    public async Task InitializeAsync()
    {
        _app.Settings["MlxManager:Web:MaxSseConnectionsPerUser"] = "2";
        _baseAddress = _app.StartOnKestrel();
        await _app.CreateUserAsync("streams@example.com");
        await _app.CreateUserAsync("other@example.com");
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task StreamsOverTheCap_Get429_OnEverySseEndpoint_UntilOneCloses()
    {
        using var user = KestrelApp.BrowserClient(_baseAddress);
        await user.SignInAsync("streams@example.com");
        using var other = KestrelApp.BrowserClient(_baseAddress);
        await other.SignInAsync("other@example.com");

        using var first = await OpenAsync(user, "/servers/events");
        using var second = await OpenAsync(user, "/downloads/events");
        first.StatusCode.ShouldBe(HttpStatusCode.OK);
        second.StatusCode.ShouldBe(HttpStatusCode.OK);

        foreach (var stream in new[] { "/servers/events", "/downloads/events", $"/chat/turns/{Guid.NewGuid()}/events" })
        {
            using var refused = await OpenAsync(user, stream);
            (await refused.ShouldBeProblemAsync(HttpStatusCode.TooManyRequests)).GetProperty("detail").GetString()!.ShouldContain("2 live update streams");
        }
        using (var someoneElse = await OpenAsync(other, "/servers/events"))
        {
            someoneElse.StatusCode.ShouldBe(HttpStatusCode.OK, "the cap is per account");
        }

        first.Dispose();
        (await StatusOnceTheServerNoticesAsync(user)).ShouldBe(HttpStatusCode.NoContent, "a closed stream gives its slot back (an unknown turn answers 204)");
    }

    /// <summary>The server frees the slot when it sees the connection end, a moment after the client closed it.</summary>
    private static async Task<HttpStatusCode> StatusOnceTheServerNoticesAsync(AppClient user)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            using var again = await OpenAsync(user, $"/chat/turns/{Guid.NewGuid()}/events");
            if (again.StatusCode != HttpStatusCode.TooManyRequests || DateTime.UtcNow > deadline)
            {
                return again.StatusCode;
            }
            await Task.Delay(50);
        }
    }

    private static Task<HttpResponseMessage> OpenAsync(AppClient client, string url) =>
        client.Http.SendAsync(new HttpRequestMessage(HttpMethod.Get, url) { Headers = { { "Accept", "text/event-stream" } } }, HttpCompletionOption.ResponseHeadersRead);
}
