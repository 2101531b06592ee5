using System.Text.RegularExpressions;
using Microsoft.Playwright;
using MlxManager.Core.Accounts;
using MlxManager.Web.Tests.Ui.Infrastructure;
using MlxManager.Web.Tests.Ui.PageObjects;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace MlxManager.Web.Tests.Ui;

[CollectionDefinition(Name)]
public sealed class PagesUi : ICollectionFixture<UiHostFixture>
{
    public const string Name = "Pages UI";
}

/// <summary>Every page renders, in light and dark, with a clean console.</summary>
[Collection(PagesUi.Name)]
[Trait("Category", "UI")]
public sealed class PagesTests(UiHostFixture fixture, ITestOutputHelper output) : UiTest(fixture, output)
{
    private const string Password = "a long enough password";

    public static TheoryData<ColorScheme> Schemes => new() { ColorScheme.Light, ColorScheme.Dark };

    [Theory]
    [MemberData(nameof(Schemes))]
    public async Task AnonymousPages_RenderCleanly(ColorScheme scheme)
    {
        var page = await NewPageAsync(scheme);
        var name = scheme.ToString().ToLowerInvariant();

        await StepAsync($"login-{name}", page, async () =>
        {
            await page.GotoAsync("/models");
            await Expect(page).ToHaveURLAsync(new Regex("/login\\?returnUrl=%2Fmodels$"));
            await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Sign in" })).ToBeVisibleAsync();
        });
        await StepAsync($"login-error-{name}", page, async () =>
        {
            await new LoginPage(page).SignInAsync("nobody@example.com", "wrong password");
            await Expect(new LoginPage(page).Error).ToHaveTextAsync("Wrong e-mail or password.");
        });
        await StepAsync($"register-{name}", page, async () =>
        {
            await page.GotoAsync("/register");
            await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Create an account" })).ToBeVisibleAsync();
        });
        await StepAsync($"register-errors-{name}", page, async () =>
        {
            await new RegisterPage(page).RegisterAsync("not-an-email", "short");
            await Expect(page.Locator("#email-error")).ToHaveTextAsync("Enter a valid e-mail address.");
            await Expect(page.Locator("#password-error")).ToHaveTextAsync("Use at least 8 characters.");
        });
    }

    [Theory]
    [MemberData(nameof(Schemes))]
    public async Task AdminPages_RenderCleanly(ColorScheme scheme)
    {
        var name = scheme.ToString().ToLowerInvariant();
        var email = $"admin-{name}@example.com";
        await Fixture.App.CreateUserAsync(email, Password, admin: true);
        await Fixture.App.CreateUserAsync($"waiting-{name}@example.com", Password, UserStatus.Pending);
        var page = await NewPageAsync(scheme);
        var nav = new NavBar(page);

        await StepAsync($"home-{name}", page, async () =>
        {
            await new LoginPage(page).SignInAsync(email, Password);
            await Expect(page).ToHaveURLAsync(new Regex("/$"));
            await Expect(page.GetByTestId("pending-callout")).ToBeVisibleAsync();
            await Expect(nav.PendingBadge).ToBeVisibleAsync();
        });
        foreach (var section in new[] { "Models", "Profiles", "Servers", "Chat" })
        {
            await StepAsync($"{section.ToLowerInvariant()}-{name}", page, async () =>
            {
                await nav.Link(section).ClickAsync();
                await Expect(page.GetByRole(AriaRole.Heading, new() { Name = section, Exact = true })).ToBeVisibleAsync();
                await Expect(nav.Link(section)).ToHaveAttributeAsync("aria-current", "page");
            });
        }
        await StepAsync($"users-{name}", page, async () =>
        {
            await nav.UsersLink.ClickAsync();
            await Expect(new UsersPage(page).Status($"waiting-{name}@example.com")).ToHaveTextAsync("pending");
        });
        await StepAsync($"jobs-{name}", page, async () =>
        {
            await nav.Link("Jobs").ClickAsync();
            await Expect(page).ToHaveURLAsync(new Regex("/admin/jobs"));
            await Expect(page.GetByText("MLX Manager jobs").First).ToBeVisibleAsync();
        });
        await StepAsync($"not-found-{name}", page, async () =>
        {
            ExpectConsoleError(new Regex("/no/such/page: Failed to load resource: .* 404"));
            await page.GotoAsync("/no/such/page");
            await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Page not found" })).ToBeVisibleAsync();
        });
    }

    [Fact]
    public async Task DarkPreference_GivesADarkPage()
    {
        var light = await NewPageAsync(ColorScheme.Light);
        var dark = await NewPageAsync(ColorScheme.Dark);
        await light.GotoAsync("/login");
        await dark.GotoAsync("/login");

        var lightBackground = await light.EvaluateAsync<string>("getComputedStyle(document.documentElement).backgroundColor");
        var darkBackground = await dark.EvaluateAsync<string>("getComputedStyle(document.documentElement).backgroundColor");

        lightBackground.ShouldNotBe(darkBackground);
        Brightness(darkBackground).ShouldBeLessThan(Brightness(lightBackground));
    }

    private static double Brightness(string rgb)
    {
        var parts = Regex.Matches(rgb, "\\d+").Take(3).Select(match => double.Parse(match.Value, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        return parts.Sum();
    }
}
