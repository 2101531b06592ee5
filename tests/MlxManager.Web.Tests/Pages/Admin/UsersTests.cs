using System.Net;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using MlxManager.Core.Accounts;
using MlxManager.Web.Tests.Infrastructure;

namespace MlxManager.Web.Tests.Pages.Admin;

/// <summary>AUTH-05 and AUTH-06 over HTTP, as htmx and as plain forms.</summary>
public sealed class UsersTests : IAsyncLifetime
{
    private readonly MlxManagerFactory _app = new();
    private AppClient _admin = null!;
    private AppUser _adminUser = null!;

    public async Task InitializeAsync()
    {
        _adminUser = await _app.CreateUserAsync("admin@example.com", admin: true);
        _admin = _app.CreateAppClient();
        await _admin.SignInAsync("admin@example.com");
    }

    public async Task DisposeAsync()
    {
        _admin.Dispose();
        await _app.DisposeAsync();
    }

    [Fact]
    public async Task UsersPage_ListsEveryAccountWithStatusAndRole()
    {
        await _app.CreateUserAsync("pending@example.com", status: UserStatus.Pending);
        await _app.CreateUserAsync("off@example.com", status: UserStatus.Disabled);

        var html = await _admin.GetHtmlAsync("/admin/users");

        html.ShouldContain("pending@example.com");
        html.ShouldContain("status-pending");
        html.ShouldContain("status-disabled");
        html.ShouldContain("status-active");
        html.ShouldContain(">admin<");
    }

    [Fact]
    public async Task UsersPage_ForNonAdmin_Is403()
    {
        await _app.CreateUserAsync("plain@example.com");
        using var client = _app.CreateAppClient();
        await client.SignInAsync("plain@example.com");

        var response = await client.GetAsync("/admin/users");

        response.StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        (await response.Content.ReadAsStringAsync()).ShouldContain("Not allowed");
    }

    [Fact]
    public async Task Badge_CountsPendingAccounts_AndIsInTheNavForAdminsOnly()
    {
        await _app.CreateUserAsync("p1@example.com", status: UserStatus.Pending);
        await _app.CreateUserAsync("p2@example.com", status: UserStatus.Pending);
        await _app.CreateUserAsync("plain@example.com");
        using var plain = _app.CreateAppClient();
        await plain.SignInAsync("plain@example.com");

        var fragment = await _admin.GetHtmlAsync("/admin/users?handler=PendingBadge");
        var adminNav = await _admin.GetHtmlAsync("/models");
        var plainNav = await plain.GetHtmlAsync("/models");

        fragment.ShouldContain("id=\"pending-badge\"");
        fragment.ShouldContain(">2</span>");
        fragment.ShouldContain("hx-trigger=\"every 10s\"");
        adminNav.ShouldContain("id=\"pending-badge\"");
        plainNav.ShouldNotContain("pending-badge");
        plainNav.ShouldNotContain("/admin/users");
    }

    [Fact]
    public async Task Approve_ByHtmx_ReturnsTheRowAndTheBadgeOutOfBand()
    {
        var pending = await _app.CreateUserAsync("waiting@example.com", status: UserStatus.Pending);

        var response = await _admin.HtmxPostAsync($"/admin/users?handler=Approve&id={pending.Id}", "/admin/users");

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        var html = await response.Content.ReadAsStringAsync();
        html.ShouldContain($"id=\"user-row-{pending.Id}\"");
        html.ShouldContain("status-active");
        html.ShouldContain("hx-swap-oob=\"true\"");
        html.ShouldContain("hidden=\"hidden\"");
        (await StatusOfAsync(pending.Id)).ShouldBe(UserStatus.Active);
    }

    [Fact]
    public async Task HtmxPost_WithoutAntiforgeryToken_IsRejected()
    {
        var pending = await _app.CreateUserAsync("waiting@example.com", status: UserStatus.Pending);

        var response = await _admin.HtmxPostAsync($"/admin/users?handler=Approve&id={pending.Id}", "/admin/users", withToken: false);

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await StatusOfAsync(pending.Id)).ShouldBe(UserStatus.Pending);
    }

    [Fact]
    public async Task Approve_AsPlainForm_RerendersThePage()
    {
        var pending = await _app.CreateUserAsync("waiting@example.com", status: UserStatus.Pending);

        var response = await _admin.PostFormAsync($"/admin/users?handler=Approve&id={pending.Id}", new Dictionary<string, string>(), "/admin/users");

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await response.Content.ReadAsStringAsync()).ShouldContain("Approved.");
        (await StatusOfAsync(pending.Id)).ShouldBe(UserStatus.Active);
    }

    [Fact]
    public async Task DisableEnablePromoteDemote_ChangeTheAccount()
    {
        var user = await _app.CreateUserAsync("member@example.com");

        await PostAsync("Disable", user.Id);
        (await StatusOfAsync(user.Id)).ShouldBe(UserStatus.Disabled);
        await PostAsync("Enable", user.Id);
        (await StatusOfAsync(user.Id)).ShouldBe(UserStatus.Active);
        await PostAsync("Promote", user.Id);
        (await IsAdminAsync(user.Id)).ShouldBeTrue();
        await PostAsync("Demote", user.Id);
        (await IsAdminAsync(user.Id)).ShouldBeFalse();
    }

    [Fact]
    public async Task Delete_RemovesTheAccount()
    {
        var user = await _app.CreateUserAsync("leaving@example.com", status: UserStatus.Pending);

        var html = await PostAsync("Delete", user.Id);

        html.ShouldContain("leaving@example.com was deleted.");
        (await FindAsync(user.Id)).ShouldBeNull();
    }

    [Fact]
    public async Task ResetPassword_LetsTheUserSignInWithTheNewOne()
    {
        var user = await _app.CreateUserAsync("forgetful@example.com");

        var html = await PostAsync("ResetPassword", user.Id, new Dictionary<string, string> { ["newPassword"] = "a fresh password" });

        html.ShouldContain("Password changed");
        using var client = _app.CreateAppClient();
        (await client.LoginAsync("forgetful@example.com", "a fresh password")).ShouldRedirectTo("/");
    }

    [Fact]
    public async Task ResetPassword_TooShort_ShowsTheReasonAndKeepsTheOldPassword()
    {
        var user = await _app.CreateUserAsync("forgetful@example.com");

        var html = await PostAsync("ResetPassword", user.Id, new Dictionary<string, string> { ["newPassword"] = "short" });

        html.ShouldContain("Use at least 8 characters");
        using var client = _app.CreateAppClient();
        (await client.LoginAsync("forgetful@example.com")).ShouldRedirectTo("/");
    }

    [Theory]
    [InlineData("Demote")]
    [InlineData("Disable")]
    [InlineData("Delete")]
    public async Task LastActiveAdmin_CannotRemoveThemself(string action)
    {
        var html = await PostAsync(action, _adminUser.Id);

        html.ShouldContain("last active administrator");
        (await StatusOfAsync(_adminUser.Id)).ShouldBe(UserStatus.Active);
        (await IsAdminAsync(_adminUser.Id)).ShouldBeTrue();
    }

    [Fact]
    public async Task SecondAdmin_CanDemoteTheFirst()
    {
        var other = await _app.CreateUserAsync("other-admin@example.com", admin: true);

        await PostAsync("Demote", other.Id);

        (await IsAdminAsync(other.Id)).ShouldBeFalse();
    }

    [Fact]
    public async Task DemotedAdmin_LosesAdminPagesAtTheNextRequest()
    {
        await _app.CreateUserAsync("second-admin@example.com", admin: true);
        using var second = _app.CreateAppClient();
        await second.SignInAsync("second-admin@example.com");
        (await second.GetAsync("/admin/users")).StatusCode.ShouldBe(HttpStatusCode.OK);

        await PostAsync("Demote", (await FindByEmailAsync("second-admin@example.com")).Id);

        (await second.GetAsync("/admin/users")).StatusCode.ShouldBe(HttpStatusCode.Forbidden);
    }

    private async Task<string> PostAsync(string handler, string id, Dictionary<string, string>? fields = null)
    {
        var response = await _admin.HtmxPostAsync($"/admin/users?handler={handler}&id={id}", "/admin/users", fields);
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        return await response.Content.ReadAsStringAsync();
    }

    private async Task<UserStatus?> StatusOfAsync(string id) => (await FindAsync(id))?.Status;

    private Task<AppUser?> FindAsync(string id) =>
        _app.WithScopeAsync(services => services.GetRequiredService<UserManager<AppUser>>().FindByIdAsync(id));

    private Task<AppUser> FindByEmailAsync(string email) =>
        _app.WithScopeAsync(async services => (await services.GetRequiredService<UserManager<AppUser>>().FindByEmailAsync(email))!);

    private Task<bool> IsAdminAsync(string id) =>
        _app.WithScopeAsync(async services =>
        {
            var users = services.GetRequiredService<UserManager<AppUser>>();
            return await users.IsInRoleAsync((await users.FindByIdAsync(id))!, Roles.Admin);
        });
}
