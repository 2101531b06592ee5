using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using MlxManager.Web.Pages.Account;
using MlxManager.Web.Tests.Infrastructure;

namespace MlxManager.Web.Tests.Pages.Account;

/// <summary>
/// Repeated failures lock one e-mail from one client address, for the login page and <c>POST /api/auth/token</c>
/// alike: an unknown e-mail answers exactly as a known one, and a stranger cannot lock the owner out from elsewhere.
/// </summary>
public sealed class SignInLockoutTests : IClassFixture<MlxManagerFactory>
{
    private const int Limit = 5;

    private readonly MlxManagerFactory _app;

    public SignInLockoutTests(MlxManagerFactory app) => _app = app;

    private static string NewEmail() => $"lock-{Guid.NewGuid():N}@example.com";

    [Fact]
    public async Task LoginPage_AfterRepeatedFailures_KnownAndUnknownEmailsGetTheSameAnswer()
    {
        var known = NewEmail();
        await _app.CreateUserAsync(known);
        using var client = _app.CreateAppClient();

        var knownAnswers = await FailLoginAsync(client, known, Limit + 1);
        var unknownAnswers = await FailLoginAsync(client, NewEmail(), Limit + 1);

        knownAnswers.ShouldBe(unknownAnswers);
        knownAnswers[0].ShouldBe((HttpStatusCode.OK, LoginModel.InvalidCredentialsMessage));
        knownAnswers[^1].ShouldBe((HttpStatusCode.OK, LoginModel.LockedOutMessage));
    }

    [Fact]
    public async Task TokenApi_AfterRepeatedFailures_KnownAndUnknownEmailsGetTheSameAnswer()
    {
        var known = NewEmail();
        await _app.CreateUserAsync(known);
        using var client = _app.CreateAppClient();

        var knownAnswers = await FailTokenAsync(client.Http, known, Limit + 1);
        var unknownAnswers = await FailTokenAsync(client.Http, NewEmail(), Limit + 1);

        knownAnswers.ShouldBe(unknownAnswers);
        knownAnswers[0].Status.ShouldBe(HttpStatusCode.Unauthorized);
        knownAnswers[^1].Status.ShouldBe(HttpStatusCode.TooManyRequests);
        (await client.Http.PostAsJsonAsync("/api/auth/token", new { email = known, password = TestPasswords.Default }))
            .StatusCode.ShouldBe(HttpStatusCode.TooManyRequests, "locked: even the right password is refused from here");
    }

    [Fact]
    public async Task AStrangerLockingAnEmail_DoesNotLockItsOwnerOnAnotherAddress()
    {
        await using var app = new MlxManagerFactory();
        app.Settings["MlxManager:Proxy:KnownProxies:0"] = "127.0.0.1";
        var baseAddress = app.StartOnKestrel();
        var owner = NewEmail();
        await app.CreateUserAsync(owner);
        using var stranger = KestrelApp.BrowserClient(baseAddress, "203.0.113.66");
        using var ownersBrowser = KestrelApp.BrowserClient(baseAddress, "198.51.100.20");
        using var ownersScript = KestrelApp.RawClient(baseAddress);
        ownersScript.DefaultRequestHeaders.Add("X-Forwarded-For", "198.51.100.21");

        (await FailLoginAsync(stranger, owner, Limit))[^1].Message.ShouldBe(LoginModel.LockedOutMessage);
        (await FailTokenAsync(stranger.Http, owner, 1))[0].Status.ShouldBe(HttpStatusCode.TooManyRequests);

        (await ownersBrowser.LoginAsync(owner)).ShouldRedirectTo("/");
        (await ownersScript.PostAsJsonAsync("/api/auth/token", new { email = owner, password = TestPasswords.Default })).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    private static async Task<List<(HttpStatusCode Status, string Message)>> FailLoginAsync(AppClient client, string email, int attempts)
    {
        var answers = new List<(HttpStatusCode, string)>();
        for (var attempt = 0; attempt < attempts; attempt++)
        {
            var response = await client.LoginAsync(email, "wrong password");
            var html = await response.Content.ReadAsStringAsync();
            var message = new[] { LoginModel.LockedOutMessage, LoginModel.InvalidCredentialsMessage }.FirstOrDefault(m => html.Contains(m, StringComparison.Ordinal)) ?? html;
            answers.Add((response.StatusCode, message));
        }
        return answers;
    }

    private static async Task<List<(HttpStatusCode Status, string Problem)>> FailTokenAsync(HttpClient http, string email, int attempts)
    {
        var answers = new List<(HttpStatusCode, string)>();
        for (var attempt = 0; attempt < attempts; attempt++)
        {
            var response = await http.PostAsJsonAsync("/api/auth/token", new { email, password = "wrong password" });
            var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
            answers.Add((response.StatusCode, $"{problem.GetProperty("title").GetString()} {(problem.TryGetProperty("detail", out var detail) ? detail.GetString() : "")}"));
        }
        return answers;
    }
}
