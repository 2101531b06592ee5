using System.Text.RegularExpressions;
using Microsoft.Playwright;
using MlxManager.Web.Tests.Ui.Infrastructure;
using MlxManager.Web.Tests.Ui.PageObjects;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace MlxManager.Web.Tests.Ui;

[CollectionDefinition(Name)]
public sealed class ApprovalFlowUi : ICollectionFixture<UiHostFixture>
{
    public const string Name = "Approval flow UI";
}

/// <summary>The whole AUTH-01..06 story in a real browser against a real Kestrel port.</summary>
[Collection(ApprovalFlowUi.Name)]
[Trait("Category", "UI")]
public sealed class ApprovalFlowTests(UiHostFixture fixture, ITestOutputHelper output) : UiTest(fixture, output)
{
    private const string AdminEmail = "ada@example.com";
    private const string MemberEmail = "grace@example.com";
    private const string Password = "a long enough password";

    [Fact]
    public async Task FirstUserIsAdmin_ApprovesTheSecond_WhoGetsIn_AndIsLoggedOutWhenDisabled()
    {
        var admin = await NewPageAsync(ColorScheme.Light);
        var member = await NewPageAsync(ColorScheme.Dark);
        var adminNav = new NavBar(admin);
        var memberNav = new NavBar(member);
        var users = new UsersPage(admin);

        await StepAsync("admin-registers-first", admin, async () =>
        {
            await new RegisterPage(admin).RegisterAsync(AdminEmail, Password);
            await Expect(admin).ToHaveURLAsync(new Regex("/$"));
            await adminNav.ShouldShowAppSectionsAsync();
            await Expect(adminNav.UsersLink).ToBeVisibleAsync();
            await Expect(adminNav.PendingBadge).ToBeHiddenAsync();
        });

        await StepAsync("admin-waits-on-models", admin, async () =>
        {
            await adminNav.Link("Models").ClickAsync();
            await Expect(admin).ToHaveURLAsync(new Regex("/models$"));
        });

        await StepAsync("member-registers-and-waits", member, async () =>
        {
            await new RegisterPage(member).RegisterAsync(MemberEmail, Password);
            var login = new LoginPage(member);
            await Expect(login.Notice).ToContainTextAsync("an administrator approves new accounts");
            await login.SignInAsync(MemberEmail, Password);
            await new PendingPage(member).ShouldBeShownAsync();
            await Expect(memberNav.Link("Models")).ToHaveCountAsync(0);
        });

        await StepAsync("pending-member-cannot-open-pages", member, async () =>
        {
            await member.GotoAsync("/servers");
            await new PendingPage(member).ShouldBeShownAsync();
        });

        await StepAsync("admin-badge-shows-one-without-reload", admin, async () =>
        {
            // The badge polls every 10 s; no navigation happens here.
            await Expect(adminNav.PendingBadge).ToHaveTextAsync("1", new() { Timeout = 20_000 });
            await Expect(admin).ToHaveURLAsync(new Regex("/models$"));
        });

        await StepAsync("admin-opens-users", admin, async () =>
        {
            await adminNav.UsersLink.ClickAsync();
            await Expect(users.Status(MemberEmail)).ToHaveTextAsync("pending");
            await Expect(users.Status(AdminEmail)).ToHaveTextAsync("active");
        });

        await StepAsync("admin-approves", admin, async () =>
        {
            await users.ClickAsync(MemberEmail, "Approve");
            await Expect(users.Status(MemberEmail)).ToHaveTextAsync("active");
            await Expect(users.Row(MemberEmail).GetByTestId("row-message")).ToHaveTextAsync("Approved.");
            await Expect(adminNav.PendingBadge).ToBeHiddenAsync();
        });

        await StepAsync("member-signs-out", member, async () =>
        {
            await memberNav.SignOut.ClickAsync();
            await Expect(new LoginPage(member).Notice).ToHaveTextAsync("You are signed out.");
        });

        await StepAsync("member-logs-in-and-sees-the-app", member, async () =>
        {
            await new LoginPage(member).SignInAsync(MemberEmail, Password);
            await Expect(member).ToHaveURLAsync(new Regex("/$"));
            await memberNav.ShouldShowAppSectionsAsync();
            await Expect(memberNav.UsersLink).ToHaveCountAsync(0);
            await memberNav.Link("Chat").ClickAsync();
            await Expect(member.GetByTestId("new-chat")).ToBeVisibleAsync();
        });

        await StepAsync("admin-disables-member", admin, async () =>
        {
            await users.ClickAsync(MemberEmail, "Disable");
            await Expect(users.Status(MemberEmail)).ToHaveTextAsync("disabled");
        });

        await StepAsync("disabled-member-is-logged-out", member, async () =>
        {
            await memberNav.Link("Servers").ClickAsync();
            await Expect(member).ToHaveURLAsync(new Regex("/login\\?"));
            await Expect(new LoginPage(member).Notice).ToContainTextAsync("an administrator disabled this account");
        });

        await StepAsync("disabled-member-cannot-sign-in-again", member, async () =>
        {
            await new LoginPage(member).SignInAsync(MemberEmail, Password);
            await Expect(new LoginPage(member).Error).ToContainTextAsync("disabled");
        });
    }
}
