using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using MlxManager.Core.Gateway;
using MlxManager.Core.Usage;
using MlxManager.ModelFixtures;
using MlxManager.Web.Tests.Pages.Usage;
using MlxManager.Web.Tests.Servers.Infrastructure;
using MlxManager.Web.Tests.Ui.Infrastructure;
using MlxManager.Web.Tests.Ui.PageObjects;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace MlxManager.Web.Tests.Ui;

[CollectionDefinition(Name)]
public sealed class UsageUi : ICollectionFixture<UiHostFixture>
{
    public const string Name = "Usage UI";
}

/// <summary>
/// /usage in a real browser on rows recorded through the app's ledger: an admin (light) sees everyone, stacks the chart by
/// user and filters to one user; a member (dark) sees only their own usage, in the chart, the tables, "in use right now"
/// and the downloaded CSV.
/// </summary>
[Collection(UsageUi.Name)]
[Trait("Category", "UI")]
public sealed class UsageUiTests(UiHostFixture fixture, ITestOutputHelper output) : UiTest(fixture, output)
{
    private const string Password = "a long enough password";

    [Fact]
    public async Task Admin_SeesEveryonesUsage_MemberOnlyTheirOwn_InChartTablesAndCsv()
    {
        var app = Fixture.App;
        await app.CreateUserAsync("usage-admin@example.com", Password, admin: true);
        var member = await app.CreateUserAsync("usage-member@example.com", Password);
        var other = await app.CreateUserAsync("usage-other@example.com", Password);
        var today = DateTime.UtcNow;
        var rows = new List<UsageRecord>();
        for (var day = 0; day < 12; day++)
        {
            rows.Add(UsageLedgerSeed.Row(member.Id, "mlx-community/Qwen3-4B-4bit", 800 + day * 150, 400 + day * 40, today.AddDays(-day)));
            rows.Add(UsageLedgerSeed.Row(member.Id, "mlx-community/Llama-3.2-3B-Instruct-4bit", 300 + day * 20, 900, today.AddDays(-day), UsageSource.Gateway));
            rows.Add(UsageLedgerSeed.Row(other.Id, "mlx-community/other-secret-model", 2500, 1200, today.AddDays(-day), UsageSource.Gateway));
        }

        await UsageLedgerSeed.RecordAsync(app, [.. rows]);
        var profile = await SeedProfiles.AddAsync(app, "Qwen for the team", FixtureCatalog.LlamaTools.RepoId);
        var lanes = app.Services.GetRequiredService<GatewayLanes>();
        using var memberTurn = lanes.Join(profile.Id, user: new LaneUser(member.Id, UsageSource.Chat));
        using var otherRequest = lanes.Join(profile.Id, user: new LaneUser(other.Id, UsageSource.Gateway));

        var admin = await NewPageAsync(ColorScheme.Light);
        var adminUsage = new UsagePage(admin);
        await StepAsync("admin-opens-usage", admin, async () =>
        {
            await new LoginPage(admin).SignInAsync("usage-admin@example.com", Password);
            await new NavBar(admin).Link("Usage").ClickAsync();
            await Expect(admin).ToHaveURLAsync(new Regex("/usage$"));
            await Expect(adminUsage.Bars.First).ToBeVisibleAsync();
            await Expect(adminUsage.Table("users")).ToContainTextAsync("usage-other@example.com");
            await Expect(adminUsage.InUse).ToContainTextAsync("usage-member@example.com");
            await Expect(adminUsage.InUse).ToContainTextAsync("usage-other@example.com");
        });

        await StepAsync("admin-30-days-by-user", admin, async () =>
        {
            await adminUsage.Range(30).ClickAsync();
            await adminUsage.By("user").ClickAsync();
            await Expect(admin).ToHaveURLAsync(new Regex("days=30.*by=user"));
            await Expect(adminUsage.Legend).ToHaveCountAsync(2);
            await Expect(adminUsage.Bars).ToHaveCountAsync(24, new() { Timeout = ExpectTimeoutMs }); // two users on each of 12 days
        });

        await StepAsync("admin-filters-one-user", admin, async () =>
        {
            await adminUsage.UserFilter.SelectOptionAsync(new SelectOptionValue { Label = "usage-member@example.com" });
            await adminUsage.Apply.ClickAsync();
            await Expect(adminUsage.Table("users")).Not.ToContainTextAsync("usage-other@example.com");
            await Expect(adminUsage.InUse).Not.ToContainTextAsync("usage-other@example.com");
            await Expect(adminUsage.Table("models")).ToContainTextAsync("mlx-community/Qwen3-4B-4bit");
        });

        var memberPage = await NewPageAsync(ColorScheme.Dark);
        var usage = new UsagePage(memberPage);
        await StepAsync("member-dark-sees-own-usage", memberPage, async () =>
        {
            await new LoginPage(memberPage).SignInAsync("usage-member@example.com", Password);
            await memberPage.GotoAsync("/usage?days=30");
            await Expect(usage.Bars.First).ToBeVisibleAsync();
            await Expect(usage.Legend).ToHaveCountAsync(2);
            await Expect(usage.UserFilter).ToHaveCountAsync(0);
            await Expect(usage.Table("users")).ToHaveCountAsync(0);
            await Expect(usage.Table("keys")).ToContainTextAsync("Web chat");
            await Expect(usage.InUse).ToContainTextAsync("Qwen for the team");
            await Expect(usage.InUse).Not.ToContainTextAsync("usage-other@example.com");
            (await memberPage.ContentAsync()).ShouldNotContain("other-secret-model");
        });

        await StepAsync("member-downloads-csv", memberPage, async () =>
        {
            var csv = await usage.DownloadCsvAsync();
            var lines = csv.Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
            lines.Length.ShouldBe(1 + 24, "a header and the member's two models on 12 days");
            lines.Skip(1).ShouldAllBe(line => line.Contains("usage-member@example.com"));
            csv.ShouldNotContain("other-secret-model");
        });
    }
}
