using System.Net;
using Microsoft.Extensions.DependencyInjection;
using MlxManager.Core.Accounts;
using MlxManager.Core.Accounts.Keys;
using MlxManager.Core.Data;
using MlxManager.Core.Usage;
using MlxManager.Web.Tests.Infrastructure;

namespace MlxManager.Web.Tests.Pages.Usage;

/// <summary>
/// <c>/usage</c> and its CSV over real HTTP, on rows recorded through the app's ledger: a member sees only their own
/// usage, whatever the query says; admins see everyone's and filter by user; the CSV has the same rows and is safe to open
/// in a spreadsheet.
/// </summary>
public sealed class UsagePageTests(MlxManagerFactory app) : IClassFixture<MlxManagerFactory>
{
    [Fact]
    public async Task AMember_SeesOnlyTheirOwnRows_OnThePageAndInTheCsv_EvenWhenAskingForAnother()
    {
        var (alice, aliceClient) = await SignedInAsync("alice");
        var (bob, _) = await SignedInAsync("bob");
        var bobKey = await KeyAsync(bob, "bob's secret tool");
        await UsageLedgerSeed.RecordAsync(app,
            UsageLedgerSeed.Row(alice.Id, "alice/model-a", 100, 50),
            UsageLedgerSeed.Row(bob.Id, "bob/private-model", 7000, 3000, source: UsageSource.Gateway, keyId: bobKey.Id));

        foreach (var url in new[] { "/usage", $"/usage?user={bob.Id}&by=user", "/usage?days=90&by=key" })
        {
            var html = await aliceClient.GetHtmlAsync(url);

            html.ShouldContain("alice/model-a", Case.Sensitive, url);
            html.ShouldNotContain("bob/private-model", Case.Sensitive, url);
            html.ShouldNotContain(bob.Email!, Case.Sensitive, url);
            html.ShouldNotContain("bob&#x27;s secret tool", Case.Sensitive, url);
            html.ShouldNotContain("data-testid=\"user-filter\"", Case.Sensitive, url);
        }

        var csv = await CsvAsync(aliceClient, $"/usage?handler=Csv&days=30&user={bob.Id}");
        csv.Skip(1).ShouldNotBeEmpty();
        csv.Skip(1).ShouldAllBe(line => line.Contains(alice.Email!) && line.Contains("alice/model-a"));
        string.Join("\n", csv).ShouldNotContain("bob");
    }

    [Fact]
    public async Task AnAdmin_SeesEveryone_AndFiltersByUser_OnThePageAndInTheCsv()
    {
        var (_, adminClient) = await SignedInAsync("admin", admin: true);
        var (carol, _) = await SignedInAsync("carol");
        var (dave, _) = await SignedInAsync("dave");
        await UsageLedgerSeed.RecordAsync(app,
            UsageLedgerSeed.Row(carol.Id, "carol/model", 10, 20),
            UsageLedgerSeed.Row(dave.Id, "dave/model", 30, 40, source: UsageSource.Gateway));

        var everyone = await adminClient.GetHtmlAsync("/usage?by=user");
        everyone.ShouldContain("carol/model");
        everyone.ShouldContain("dave/model");
        everyone.ShouldContain(carol.Email!);
        everyone.ShouldContain("data-testid=\"usage-users\"");

        var onlyDave = await adminClient.GetHtmlAsync($"/usage?user={dave.Id}");
        onlyDave.ShouldContain("dave/model");
        onlyDave.ShouldNotContain("carol/model");

        var csv = await CsvAsync(adminClient, $"/usage?handler=Csv&user={dave.Id}");
        csv[0].ShouldStartWith("day,user,key,source,model,requests");
        csv.Skip(1).ShouldHaveSingleItem().ShouldContain($"{dave.Email},API token,gateway,dave/model,1,0,0,0,30,40,0,0,120,10");
    }

    [Fact]
    public async Task TheRange_PicksTheDays_AndOlderRowsCountOnlyInLongerRanges()
    {
        var (erin, client) = await SignedInAsync("erin");
        await UsageLedgerSeed.RecordAsync(app,
            UsageLedgerSeed.Row(erin.Id, "erin/recent", 1, 1),
            UsageLedgerSeed.Row(erin.Id, "erin/three-weeks-ago", 1, 1, at: DateTime.UtcNow.AddDays(-20)),
            UsageLedgerSeed.Row(erin.Id, "erin/two-months-ago", 1, 1, at: DateTime.UtcNow.AddDays(-60)));

        var week = await client.GetHtmlAsync("/usage?days=7");
        var month = await client.GetHtmlAsync("/usage?days=30");
        var quarter = await client.GetHtmlAsync("/usage?days=90");

        week.ShouldContain("erin/recent");
        week.ShouldNotContain("erin/three-weeks-ago");
        month.ShouldContain("erin/three-weeks-ago");
        month.ShouldNotContain("erin/two-months-ago");
        quarter.ShouldContain("erin/two-months-ago");
        (await CsvAsync(client, "/usage?handler=Csv&days=30")).Count.ShouldBe(3, "a header and two rows");
    }

    [Fact]
    public async Task TheCsv_EscapesCellsASpreadsheetWouldRunAsFormulas()
    {
        var (frank, client) = await SignedInAsync("frank");
        var key = await KeyAsync(frank, "=HYPERLINK(\"http://evil.example\")");
        await UsageLedgerSeed.RecordAsync(app, UsageLedgerSeed.Row(frank.Id, "@SUM(1+1)", 5, 5, source: UsageSource.Gateway, keyId: key.Id));

        var csv = string.Join("\n", await CsvAsync(client, "/usage?handler=Csv"));

        csv.ShouldContain("\"'=HYPERLINK(\"\"http://evil.example\"\")\"");
        csv.ShouldContain("'@SUM(1+1)");
        csv.ShouldNotContain(",=HYPERLINK");
        csv.ShouldNotContain(",@SUM");
    }

    [Fact]
    public async Task ThePage_DrawsTheChartAsAccessibleSvg_WithALegend()
    {
        var (grace, client) = await SignedInAsync("grace");
        await UsageLedgerSeed.RecordAsync(app, UsageLedgerSeed.Row(grace.Id, "grace/model", 1200, 300));

        var html = await client.GetHtmlAsync("/usage?by=key");

        html.ShouldContain("role=\"img\" aria-labelledby=\"tokens-chart-title tokens-chart-desc\"");
        html.ShouldContain("Tokens per day by key, last 7 days");
        html.ShouldContain(": 1,500 tokens</title>");
        html.ShouldContain("<span class=\"chart-swatch chart-series-0\" aria-hidden=\"true\"></span>Web chat");
    }

    [Fact]
    public async Task NinetyDays_OfManyUsersAndModels_AreReadFromTheDailyTotals_AndAddUp()
    {
        var (_, adminClient) = await SignedInAsync("totals-admin", admin: true);
        var users = new List<AppUser>();
        for (var i = 0; i < 8; i++)
        {
            users.Add(await app.CreateUserAsync($"totals-{i}-{Guid.NewGuid():N}@example.com"));
        }

        var today = DateTime.UtcNow.Date;
        var totals = (from day in Enumerable.Range(0, 90)
                      from user in users
                      from model in new[] { "bulk/a", "bulk/b", "bulk/c", "bulk/d", "bulk/e" }
                      select new UsageDailyTotal
                      {
                          Day = today.AddDays(-day), UserId = user.Id, Source = UsageSource.Gateway, Model = model,
                          Requests = 3, PromptTokens = 100 + day, CompletionTokens = 50,
                      }).ToList();
        await app.WithScopeAsync(async services =>
        {
            var db = services.GetRequiredService<AppDbContext>();
            db.UsageDailyTotals.AddRange(totals); // days whose rows the retention job already deleted: only totals remain
            return await db.SaveChangesAsync();
        });

        var csv = await CsvAsync(adminClient, "/usage?handler=Csv&days=90");
        var bulk = csv.Skip(1).Where(line => line.Contains(",bulk/")).ToList();
        var page = await adminClient.GetHtmlAsync("/usage?days=90");

        bulk.Count.ShouldBe(totals.Count);
        bulk.Sum(line => long.Parse(line.Split(',')[9], System.Globalization.CultureInfo.InvariantCulture)).ShouldBe(totals.Sum(t => t.PromptTokens));
        page.ShouldMatch(@"<th scope=""row"">bulk/a</th>\s*<td class=""num"">2,160</td>", "8 users × 90 days × 3 requests");
    }

    private async Task<(AppUser User, AppClient Client)> SignedInAsync(string name, bool admin = false)
    {
        var user = await app.CreateUserAsync($"{name}-{Guid.NewGuid():N}@example.com", admin: admin);
        var client = app.CreateAppClient();
        await client.SignInAsync(user.Email!);
        return (user, client);
    }

    private Task<ApiKey> KeyAsync(AppUser owner, string name) =>
        app.WithScopeAsync(async services => (await services.GetRequiredService<PersonalApiKeys>()
            .CreateAsync(new KeyViewer(owner.Id, IsAdmin: false), new NewApiKey(name, null, ApiKeyScopes.Inference))).Key!);

    private static async Task<List<string>> CsvAsync(AppClient client, string url)
    {
        var response = await client.GetAsync(url);
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("text/csv");
        response.Content.Headers.ContentDisposition!.DispositionType.ShouldBe("attachment");
        var text = await response.Content.ReadAsStringAsync();
        return [.. text.Split("\r\n", StringSplitOptions.RemoveEmptyEntries)];
    }
}
