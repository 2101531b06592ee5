using System.Net;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using MlxManager.Core.Accounts;
using MlxManager.Web.Tests.Infrastructure;

namespace MlxManager.Web.Tests.Pages.Account;

/// <summary>Browser sessions: lifetime, logout, and what happens when an admin changes the account.</summary>
public sealed class SessionTests : IClassFixture<MlxManagerFactory>
{
    private readonly MlxManagerFactory _app;

    public SessionTests(MlxManagerFactory app) => _app = app;

    private static string NewEmail() => $"user-{Guid.NewGuid():N}@example.com";

    [Fact]
    public void SessionCookie_LastsSevenDaysWithoutSliding_AndIsRevalidatedEveryMinute()
    {
        var cookie = _app.Services.GetRequiredService<IOptionsMonitor<Microsoft.AspNetCore.Authentication.Cookies.CookieAuthenticationOptions>>()
            .Get(IdentityConstants.ApplicationScheme);
        cookie.ExpireTimeSpan.ShouldBe(TimeSpan.FromDays(7));
        cookie.SlidingExpiration.ShouldBeFalse();
        cookie.Cookie.HttpOnly.ShouldBeTrue();
        _app.Services.GetRequiredService<IOptions<SecurityStampValidatorOptions>>().Value.ValidationInterval.ShouldBe(TimeSpan.FromMinutes(1));
    }

    [Fact]
    public async Task Logout_Get_OnlyShowsTheButtonAndKeepsTheSession()
    {
        var email = NewEmail();
        await _app.CreateUserAsync(email);
        using var client = _app.CreateAppClient();
        await client.SignInAsync(email);

        (await client.GetHtmlAsync("/logout")).ShouldContain("Sign out");

        (await client.GetAsync("/models")).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Logout_PostWithToken_EndsTheSession()
    {
        var email = NewEmail();
        await _app.CreateUserAsync(email);
        using var client = _app.CreateAppClient();
        await client.SignInAsync(email);

        var response = await client.PostFormAsync("/logout", new Dictionary<string, string>());

        response.ShouldRedirectTo("/login?reason=signed-out");
        (await client.GetAsync("/models")).ShouldRedirectToLogin("/models");
    }

    [Fact]
    public async Task Logout_PostWithoutToken_IsRejectedAndKeepsTheSession()
    {
        var email = NewEmail();
        await _app.CreateUserAsync(email);
        using var client = _app.CreateAppClient();
        await client.SignInAsync(email);

        var response = await client.Http.PostAsync("/logout", new FormUrlEncodedContent(new Dictionary<string, string>()));

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await client.GetAsync("/models")).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Theory]
    [InlineData(true, "disabled")]
    [InlineData(false, "removed")]
    public async Task Session_OfAccountDisabledOrDeleted_EndsAtTheNextRequest(bool disable, string reason)
    {
        var admin = await _app.CreateUserAsync(NewEmail(), admin: true);
        var email = NewEmail();
        var user = await _app.CreateUserAsync(email);
        using var client = _app.CreateAppClient();
        await client.SignInAsync(email);
        (await client.GetAsync("/models")).StatusCode.ShouldBe(HttpStatusCode.OK);

        var change = await _app.WithScopeAsync(services =>
        {
            var administration = services.GetRequiredService<UserAdministration>();
            return disable ? administration.DisableAsync(admin.Id, user.Id) : administration.DeleteAsync(admin.Id, user.Id);
        });
        change.Succeeded.ShouldBeTrue(change.Error);

        (await client.GetAsync("/models")).ShouldRedirectTo("/login?returnUrl=%2Fmodels&reason=" + reason);
        // The session cookie was removed: the next request is simply anonymous.
        (await client.GetAsync("/servers")).ShouldRedirectToLogin("/servers");
    }

    [Fact]
    public async Task Disable_UpdatesSecurityStamp_SoTheCookieFailsItsNextRevalidation()
    {
        var admin = await _app.CreateUserAsync(NewEmail(), admin: true);
        var user = await _app.CreateUserAsync(NewEmail());
        var before = user.SecurityStamp;

        await _app.WithScopeAsync(services => services.GetRequiredService<UserAdministration>().DisableAsync(admin.Id, user.Id));

        var after = await _app.WithScopeAsync(async services => (await services.GetRequiredService<UserManager<AppUser>>().FindByIdAsync(user.Id))!.SecurityStamp);
        after.ShouldNotBe(before);
    }

    [Fact]
    public async Task PendingPage_AfterApproval_LetsTheUserIn()
    {
        var admin = await _app.CreateUserAsync(NewEmail(), admin: true);
        var email = NewEmail();
        var user = await _app.CreateUserAsync(email, status: UserStatus.Pending);
        using var client = _app.CreateAppClient();
        await client.SignInAsync(email);
        (await client.GetAsync("/models")).ShouldRedirectTo("/pending");

        await _app.WithScopeAsync(services => services.GetRequiredService<UserAdministration>().ApproveAsync(admin.Id, user.Id));

        (await client.GetAsync("/pending")).ShouldRedirectTo("/");
        (await client.GetAsync("/models")).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Session_SurvivesARestartOnTheSameDataFolder()
    {
        using var folder = new TestDataFolder();
        string sessionCookie;
        await using (var first = MlxManagerFactory.OnFolder(folder))
        {
            await first.CreateUserAsync("restart@example.com");
            using var client = first.CreateAppClient();
            var login = await client.LoginAsync("restart@example.com");
            sessionCookie = login.Headers.GetValues("Set-Cookie").Single(value => value.StartsWith("mlxmanager.session=", StringComparison.Ordinal)).Split(';')[0];
        }

        await using var second = MlxManagerFactory.OnFolder(folder);
        using var restarted = second.CreateAppClient();
        restarted.Http.DefaultRequestHeaders.Add("Cookie", sessionCookie);

        (await restarted.GetAsync("/models")).StatusCode.ShouldBe(HttpStatusCode.OK);
    }
}
