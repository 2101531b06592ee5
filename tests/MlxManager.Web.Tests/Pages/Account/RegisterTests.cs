using System.Net;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using MlxManager.Core.Accounts;
using MlxManager.Core.Data;
using MlxManager.Web.Pages.Account;
using MlxManager.Web.Tests.Infrastructure;

namespace MlxManager.Web.Tests.Pages.Account;

public sealed class RegisterTests : IAsyncLifetime
{
    private readonly MlxManagerFactory _app = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task Register_FirstAccount_BecomesActiveAdminAndGoesHome()
    {
        using var client = _app.CreateAppClient();

        var response = await client.RegisterAsync("first@example.com");

        response.ShouldRedirectTo("/");
        var user = await FindAsync("first@example.com");
        user.Status.ShouldBe(UserStatus.Active);
        (await IsAdminAsync(user)).ShouldBeTrue();
        (await client.GetAsync("/")).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Register_LaterAccount_IsPendingAndSeesPendingPage()
    {
        await _app.CreateUserAsync("admin@example.com", admin: true);
        using var client = _app.CreateAppClient();

        var response = await client.RegisterAsync("later@example.com");

        response.ShouldRedirectTo("/login?reason=registered");
        var user = await FindAsync("later@example.com");
        user.Status.ShouldBe(UserStatus.Pending);
        (await IsAdminAsync(user)).ShouldBeFalse();
        (await client.GetHtmlAsync("/login?reason=registered")).ShouldContain(WebUtility.HtmlEncode(LoginModel.RegisteredNotice));
        (await client.LoginAsync("later@example.com")).ShouldRedirectTo("/pending");
        var pending = await client.GetHtmlAsync("/pending");
        pending.ShouldContain("waiting for an administrator to approve it");
    }

    [Theory]
    [InlineData("not-an-email", TestPasswords.Default, TestPasswords.Default, "Enter a valid e-mail address.")]
    [InlineData("short@example.com", "short", "short", "Use at least 8 characters.")]
    [InlineData("mismatch@example.com", TestPasswords.Default, "something else entirely", "The two passwords do not match.")]
    [InlineData("", TestPasswords.Default, TestPasswords.Default, "Enter your e-mail address.")]
    public async Task Register_InvalidInput_RerendersFormWithReasonAndCreatesNothing(string email, string password, string confirm, string reason)
    {
        using var client = _app.CreateAppClient();

        var response = await client.RegisterAsync(email, password, confirm);

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        var html = await response.Content.ReadAsStringAsync();
        html.ShouldContain(reason);
        html.ShouldContain("aria-invalid=\"true\"");
        (await CountUsersAsync()).ShouldBe(0);
    }

    [Fact]
    public async Task Register_ExistingEmail_AnswersExactlyAsANewOne_AndChangesNothing()
    {
        var owner = await _app.CreateUserAsync("taken@example.com", admin: true);
        using var stranger = _app.CreateAppClient();
        using var newcomer = _app.CreateAppClient();

        var taken = await stranger.RegisterAsync("TAKEN@example.com", "another password entirely");
        var fresh = await newcomer.RegisterAsync("fresh@example.com");

        taken.StatusCode.ShouldBe(fresh.StatusCode);
        taken.Headers.Location.ShouldBe(fresh.Headers.Location);
        taken.Headers.Location!.OriginalString.ShouldBe("/login?reason=registered");
        CookieNames(taken).ShouldBe(CookieNames(fresh));
        (await taken.Content.ReadAsStringAsync()).ShouldBe(await fresh.Content.ReadAsStringAsync());
        (await CountUsersAsync()).ShouldBe(2);
        (await FindAsync("taken@example.com")).PasswordHash.ShouldBe(owner.PasswordHash);
    }

    [Fact]
    public async Task Register_ExistingEmailWithAShortPassword_ShowsOnlyThePasswordReason()
    {
        await _app.CreateUserAsync("taken@example.com", admin: true);
        using var client = _app.CreateAppClient();

        var html = await (await client.RegisterAsync("taken@example.com", "short", "short")).Content.ReadAsStringAsync();

        html.ShouldContain("Use at least 8 characters.");
        html.ShouldNotContain("already exists");
    }

    private static string[] CookieNames(HttpResponseMessage response) =>
        response.Headers.TryGetValues("Set-Cookie", out var cookies) ? cookies.Select(cookie => cookie.Split('=')[0]).Order().ToArray() : [];

    [Fact]
    public async Task Register_SimultaneousFirstRegistrations_MakeExactlyOneAdmin()
    {
        const int people = 8;
        var clients = Enumerable.Range(0, people).Select(_ => _app.CreateAppClient()).ToList();
        var tokens = await Task.WhenAll(clients.Select(client => client.FormTokenAsync("/register")));

        var responses = await Task.WhenAll(clients.Select((client, index) => client.Http.PostAsync("/register", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["Input.Email"] = $"racer{index}@example.com",
            ["Input.Password"] = TestPasswords.Default,
            ["Input.ConfirmPassword"] = TestPasswords.Default,
            ["__RequestVerificationToken"] = tokens[index],
        }))));

        responses.ShouldAllBe(response => response.StatusCode == HttpStatusCode.Redirect);
        responses.Count(response => response.Headers.Location!.OriginalString == "/").ShouldBe(1);
        (await CountUsersAsync()).ShouldBe(people);
        var admins = await _app.WithScopeAsync(services => services.GetRequiredService<UserManager<AppUser>>().GetUsersInRoleAsync(Roles.Admin));
        admins.Count.ShouldBe(1);
        admins[0].Status.ShouldBe(UserStatus.Active);
        clients.ForEach(client => client.Dispose());
    }

    [Fact]
    public async Task RegisterAsync_ParallelCallsOnRealSqlite_GiveOneAdminAndRestPending()
    {
        var results = await Task.WhenAll(Enumerable.Range(0, 6).Select(index => _app.WithScopeAsync(services =>
            services.GetRequiredService<AccountRegistration>().RegisterAsync($"service{index}@example.com", TestPasswords.Default))));

        results.ShouldAllBe(result => result.Succeeded);
        results.Count(result => result.IsAdmin).ShouldBe(1);
        results.Where(result => !result.IsAdmin).ShouldAllBe(result => result.User!.Status == UserStatus.Pending);
    }

    private Task<AppUser> FindAsync(string email) =>
        _app.WithScopeAsync(async services => (await services.GetRequiredService<UserManager<AppUser>>().FindByEmailAsync(email))!);

    private Task<bool> IsAdminAsync(AppUser user) =>
        _app.WithScopeAsync(services => services.GetRequiredService<UserManager<AppUser>>().IsInRoleAsync(user, Roles.Admin));

    private Task<int> CountUsersAsync() =>
        _app.WithScopeAsync(services => services.GetRequiredService<AppDbContext>().Users.CountAsync());
}
