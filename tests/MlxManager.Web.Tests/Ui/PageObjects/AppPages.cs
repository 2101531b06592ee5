using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace MlxManager.Web.Tests.Ui.PageObjects;

/// <summary>The layout's navigation, present on every page.</summary>
public sealed class NavBar(IPage page)
{
    public ILocator Link(string name) => page.Locator(".site-header nav").GetByRole(AriaRole.Link, new() { Name = name, Exact = true });

    public ILocator UsersLink => page.Locator(".site-header a[href='/admin/users']");

    public ILocator PendingBadge => page.GetByTestId("pending-badge");

    public ILocator SignOut => page.GetByTestId("sign-out");

    public Task ShouldShowAppSectionsAsync() => Task.WhenAll(
        Expect(Link("Models")).ToBeVisibleAsync(),
        Expect(Link("Profiles")).ToBeVisibleAsync(),
        Expect(Link("Servers")).ToBeVisibleAsync(),
        Expect(Link("Chat")).ToBeVisibleAsync());
}

public sealed class RegisterPage(IPage page)
{
    public async Task RegisterAsync(string email, string password)
    {
        await page.GotoAsync("/register");
        await page.GetByLabel("E-mail").FillAsync(email);
        await page.GetByLabel("Password", new() { Exact = true }).FillAsync(password);
        await page.GetByLabel("Password again").FillAsync(password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Create account" }).ClickAsync();
    }
}

public sealed class LoginPage(IPage page)
{
    public ILocator Notice => page.GetByTestId("login-notice");

    public ILocator Error => page.GetByTestId("login-error");

    public async Task SignInAsync(string email, string password)
    {
        if (!page.Url.Contains("/login", StringComparison.Ordinal))
        {
            await page.GotoAsync("/login");
        }
        await page.GetByLabel("E-mail").FillAsync(email);
        await page.GetByLabel("Password").FillAsync(password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
    }
}

public sealed class PendingPage(IPage page)
{
    public ILocator Card => page.GetByTestId("pending");

    public Task ShouldBeShownAsync() => Task.WhenAll(
        Expect(page).ToHaveURLAsync(new Regex("/pending$")),
        Expect(Card).ToContainTextAsync("waiting for an administrator to approve it"));
}

/// <summary>/admin/users: one row per account, actions via htmx.</summary>
public sealed class UsersPage(IPage page)
{
    public ILocator Row(string email) => page.Locator($"tr[data-testid='user-row'][data-email='{email}']");

    public ILocator Status(string email) => Row(email).GetByTestId("user-status");

    public Task ClickAsync(string email, string button) =>
        Row(email).GetByRole(AriaRole.Button, new() { Name = button, Exact = true }).ClickAsync();
}
