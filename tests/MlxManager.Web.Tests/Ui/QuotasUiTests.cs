using System.Text.RegularExpressions;
using Microsoft.Playwright;
using MlxManager.Web.Tests.Ui.Infrastructure;
using MlxManager.Web.Tests.Ui.PageObjects;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace MlxManager.Web.Tests.Ui;

[CollectionDefinition(Name)]
public sealed class QuotasUi : ICollectionFixture<UiHostFixture>
{
    public const string Name = "Quotas UI";
}

/// <summary>Quotas and priorities in a real browser: default quota on Settings, a user's quota on Users, a batch key on /keys.</summary>
[Collection(QuotasUi.Name)]
[Trait("Category", "UI")]
public sealed class QuotasUiTests(UiHostFixture fixture, ITestOutputHelper output) : UiTest(fixture, output)
{
    private const string Password = "a long enough password";

    [Fact]
    public async Task Admin_SetsTheDefaultAndAUsersQuota_MemberCreatesABatchKey()
    {
        await Fixture.App.CreateUserAsync("quota-admin@example.com", Password, admin: true);
        await Fixture.App.CreateUserAsync("quota-member@example.com", Password);
        var admin = await NewPageAsync(ColorScheme.Light);
        var users = new UsersPage(admin);

        await StepAsync("admin-sets-default-quota", admin, async () =>
        {
            await new LoginPage(admin).SignInAsync("quota-admin@example.com", Password);
            await admin.GotoAsync("/admin/settings");
            await admin.Locator("#quota-tokens").FillAsync("not a number");
            await admin.GetByTestId("save-default-quota").ClickAsync();
            await Expect(admin.GetByTestId("settings-error")).ToBeVisibleAsync();
            await Expect(admin.Locator("#quota-tokens-error")).ToContainTextAsync("whole number");
            await admin.Locator("#quota-tokens").FillAsync("50000");
            await admin.Locator("#quota-concurrent").FillAsync("4");
            await admin.GetByTestId("save-default-quota").ClickAsync();
            await Expect(admin.GetByTestId("settings-message")).ToHaveTextAsync("Default quota saved: 50,000 tokens a day, at most 4 at once.");
            await Expect(admin.Locator("#quota-tokens")).ToHaveValueAsync("50000");
        });

        await StepAsync("admin-sets-a-users-quota", admin, async () =>
        {
            await admin.GotoAsync("/admin/users");
            var row = users.Row("quota-member@example.com");
            await Expect(row.GetByTestId("user-quota")).ToContainTextAsync("50,000 tokens a day");
            await row.Locator("summary", new() { HasText = "Set quota" }).ClickAsync();
            await row.Locator("input[name='tokensPerDay']").FillAsync("1000");
            await row.Locator("input[name='concurrentRequests']").FillAsync("0");
            await row.GetByTestId("save-quota").ClickAsync();
            await Expect(users.Row("quota-member@example.com").GetByTestId("row-message")).ToHaveTextAsync("Quota saved; it applies to the next request.");
            await Expect(users.Row("quota-member@example.com").GetByTestId("user-quota")).ToContainTextAsync("1,000 tokens a day");
            await Expect(users.Row("quota-member@example.com").GetByTestId("user-quota")).ToContainTextAsync("any number at once");
        });

        var member = await NewPageAsync(ColorScheme.Dark);
        var keys = new KeysPage(member);
        await StepAsync("member-dark-creates-batch-key", member, async () =>
        {
            await new LoginPage(member).SignInAsync("quota-member@example.com", Password);
            await member.GotoAsync("/keys");
            await keys.NameInput.FillAsync("nightly eval");
            await member.GetByTestId("key-priority-select").SelectOptionAsync("Batch");
            await keys.Create.ClickAsync();
            await Expect(keys.NewSecret).ToHaveTextAsync(new Regex("^mlxm_"));
            await Expect(keys.Row("nightly eval").GetByTestId("key-priority")).ToHaveTextAsync("batch");
        });
    }
}
