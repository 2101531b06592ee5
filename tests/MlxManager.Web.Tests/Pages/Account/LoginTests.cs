using System.Net;
using MlxManager.Core.Accounts;
using MlxManager.Web.Pages.Account;
using MlxManager.Web.Tests.Infrastructure;

namespace MlxManager.Web.Tests.Pages.Account;

public sealed class LoginTests : IClassFixture<MlxManagerFactory>
{
    private readonly MlxManagerFactory _app;

    public LoginTests(MlxManagerFactory app) => _app = app;

    private static string NewEmail() => $"user-{Guid.NewGuid():N}@example.com";

    [Fact]
    public async Task Login_ActiveUser_SignsInAndReturnsToRequestedPage()
    {
        var email = NewEmail();
        await _app.CreateUserAsync(email);
        using var client = _app.CreateAppClient();

        var response = await client.LoginAsync(email, returnUrl: "/servers");

        response.ShouldRedirectTo("/servers");
        (await client.GetAsync("/servers")).StatusCode.ShouldBe(HttpStatusCode.OK);
        response.Headers.GetValues("Set-Cookie").ShouldContain(cookie => cookie.StartsWith("mlxmanager.session=") && cookie.Contains("expires=", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task Login_ForeignReturnUrl_GoesHomeInstead()
    {
        var email = NewEmail();
        await _app.CreateUserAsync(email);
        using var client = _app.CreateAppClient();

        var response = await client.LoginAsync(email, returnUrl: "https://evil.example/steal");

        response.ShouldRedirectTo("/");
    }

    [Fact]
    public async Task Login_WrongPasswordAndUnknownEmail_GiveTheSameMessage()
    {
        var email = NewEmail();
        await _app.CreateUserAsync(email);
        using var client = _app.CreateAppClient();

        var wrongPassword = await (await client.LoginAsync(email, "not the password")).Content.ReadAsStringAsync();
        var unknownEmail = await (await client.LoginAsync(NewEmail(), "not the password")).Content.ReadAsStringAsync();

        wrongPassword.ShouldContain(LoginModel.InvalidCredentialsMessage);
        unknownEmail.ShouldContain(LoginModel.InvalidCredentialsMessage);
        MessageOf(wrongPassword).ShouldBe(MessageOf(unknownEmail));
    }

    [Fact]
    public async Task Login_PendingUser_LandsOnPendingPageAndCanReachNothingElse()
    {
        var email = NewEmail();
        await _app.CreateUserAsync(email, status: UserStatus.Pending);
        using var client = _app.CreateAppClient();

        var response = await client.LoginAsync(email);

        response.ShouldRedirectTo("/pending");
        (await client.GetHtmlAsync("/pending")).ShouldContain("waiting for an administrator to approve it");
        foreach (var page in new[] { "/", "/models", "/profiles", "/servers", "/chat", "/admin/users", "/admin/jobs" })
        {
            (await client.GetAsync(page)).ShouldRedirectTo("/pending");
        }
        (await client.GetAsync("/logout")).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Login_DisabledUser_IsRefusedWithClearMessage()
    {
        var email = NewEmail();
        await _app.CreateUserAsync(email, status: UserStatus.Disabled);
        using var client = _app.CreateAppClient();

        var response = await client.LoginAsync(email);

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await response.Content.ReadAsStringAsync()).ShouldContain(LoginModel.DisabledMessage);
        (await client.GetAsync("/models")).ShouldRedirectToLogin("/models");
    }

    [Fact]
    public async Task Login_FiveWrongPasswords_LockTheAccountEvenForTheRightPassword()
    {
        var email = NewEmail();
        await _app.CreateUserAsync(email);
        using var client = _app.CreateAppClient();

        for (var attempt = 1; attempt <= 4; attempt++)
        {
            (await (await client.LoginAsync(email, "wrong password")).Content.ReadAsStringAsync()).ShouldContain(LoginModel.InvalidCredentialsMessage);
        }
        (await (await client.LoginAsync(email, "wrong password")).Content.ReadAsStringAsync()).ShouldContain(LoginModel.LockedOutMessage);

        var right = await client.LoginAsync(email);

        right.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await right.Content.ReadAsStringAsync()).ShouldContain(LoginModel.LockedOutMessage);
    }

    [Fact]
    public async Task Login_EmptyForm_RerendersWithReasons()
    {
        using var client = _app.CreateAppClient();

        var response = await client.LoginAsync("", "");

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        var html = await response.Content.ReadAsStringAsync();
        html.ShouldContain("Enter your e-mail address.");
        html.ShouldContain("Enter your password.");
    }

    [Fact]
    public async Task Login_WithoutAntiforgeryToken_IsRejected()
    {
        using var client = _app.CreateAppClient();

        var response = await client.Http.PostAsync("/login", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["Input.Email"] = "someone@example.com",
            ["Input.Password"] = TestPasswords.Default,
        }));

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
    }

    private static string MessageOf(string html)
    {
        var start = html.IndexOf("data-testid=\"login-error\">", StringComparison.Ordinal);
        start.ShouldBeGreaterThan(0);
        return html[start..html.IndexOf("</p>", start, StringComparison.Ordinal)];
    }
}
