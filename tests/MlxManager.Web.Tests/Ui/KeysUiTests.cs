using System.Text.RegularExpressions;
using Microsoft.Playwright;
using MlxManager.Web.Tests.Ui.Infrastructure;
using MlxManager.Web.Tests.Ui.PageObjects;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace MlxManager.Web.Tests.Ui;

[CollectionDefinition(Name)]
public sealed class KeysUi : ICollectionFixture<UiHostFixture>
{
    public const string Name = "Keys UI";
}

/// <summary>/keys in a real browser: create a key, see and copy the secret once, revoke it; an admin (light) and a member (dark).</summary>
[Collection(KeysUi.Name)]
[Trait("Category", "UI")]
public sealed class KeysUiTests(UiHostFixture fixture, ITestOutputHelper output) : UiTest(fixture, output)
{
    private const string Password = "a long enough password";

    [Fact]
    public async Task Admin_CreatesKey_SeesSecretOnce_CopiesIt_Revokes_MemberSeesNoManage()
    {
        await Fixture.App.CreateUserAsync("keys-admin@example.com", Password, admin: true);
        await Fixture.App.CreateUserAsync("keys-member@example.com", Password);
        var admin = await NewPageAsync(ColorScheme.Light);
        await admin.Context.GrantPermissionsAsync(["clipboard-read", "clipboard-write"], new() { Origin = Fixture.BaseUrl });
        var keys = new KeysPage(admin);
        string secret = "";

        await StepAsync("admin-opens-keys", admin, async () =>
        {
            await new LoginPage(admin).SignInAsync("keys-admin@example.com", Password);
            await new NavBar(admin).Link("Keys").ClickAsync();
            await Expect(admin).ToHaveURLAsync(new Regex("/keys$"));
            await Expect(keys.Scope("Inference")).ToBeCheckedAsync();
            await Expect(keys.Scope("Manage")).ToBeVisibleAsync();
        });

        await StepAsync("admin-creates-key", admin, async () =>
        {
            await keys.CreateAsync("deploy script", "Metrics", "Manage");
            await Expect(keys.NewSecret).ToHaveTextAsync(new Regex("^mlxm_[0-9A-Za-z]{40,}$"));
            secret = await keys.NewSecret.TextContentAsync() ?? "";
            await Expect(keys.Row("deploy script").GetByTestId("key-scopes")).ToHaveTextAsync("inference, metrics, manage");
            await Expect(keys.Status("deploy script")).ToHaveTextAsync("active");
        });

        await StepAsync("admin-copies-secret", admin, async () =>
        {
            await keys.Copy.ClickAsync();
            await Expect(keys.Copy).ToHaveTextAsync("Copied");
            (await admin.EvaluateAsync<string>("() => navigator.clipboard.readText()")).ShouldBe(secret);
        });

        await StepAsync("secret-not-shown-again", admin, async () =>
        {
            await admin.ReloadAsync();
            await Expect(keys.NewSecret).ToHaveCountAsync(0);
            await Expect(keys.Display("deploy script")).ToHaveTextAsync($"{secret[..9]}…{secret[^4..]}");
            (await admin.ContentAsync()).ShouldNotContain(secret);
        });

        await StepAsync("admin-revokes", admin, async () =>
        {
            await keys.RevokeAsync("deploy script");
            await Expect(keys.Row("deploy script").GetByTestId("revoke-key")).ToHaveCountAsync(0);
        });

        var member = await NewPageAsync(ColorScheme.Dark);
        var memberKeys = new KeysPage(member);
        await StepAsync("member-dark-creates-key", member, async () =>
        {
            await new LoginPage(member).SignInAsync("keys-member@example.com", Password);
            await member.GotoAsync("/keys");
            await Expect(memberKeys.Scope("Manage")).ToHaveCountAsync(0);
            await memberKeys.CreateAsync("notebook");
            await Expect(memberKeys.NewSecret).ToBeVisibleAsync();
            await Expect(memberKeys.Row("deploy script")).ToHaveCountAsync(0);
        });

        await StepAsync("admin-sees-members-key", admin, async () =>
        {
            await admin.ReloadAsync();
            await Expect(keys.Row("notebook").GetByTestId("key-owner")).ToHaveTextAsync("keys-member@example.com");
        });
    }
}
