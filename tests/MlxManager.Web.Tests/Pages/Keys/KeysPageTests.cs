using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using MlxManager.Core.Accounts;
using MlxManager.Core.Accounts.Keys;
using MlxManager.Core.Data;
using MlxManager.Web.Tests.Infrastructure;

namespace MlxManager.Web.Tests.Pages.Keys;

/// <summary>
/// Personal API keys end to end: created on /keys, used on /api with <c>Authorization: Bearer</c> and <c>x-api-key</c>,
/// scopes enforced, refused at once when revoked, expired, or when the owner is disabled or deleted.
/// </summary>
public sealed partial class KeysPageTests : IClassFixture<MlxManagerFactory>
{
    private readonly MlxManagerFactory _app;

    public KeysPageTests(MlxManagerFactory app) => _app = app;

    [Fact]
    public async Task AdminKeyWithManage_OpensTheApi_WithBearerAndWithXApiKey()
    {
        var (admin, client) = await SignedInAsync(admin: true);
        var secret = await CreateKeyAsync(client, "cli", manage: true);

        secret.ShouldStartWith("mlxm_");
        (await MeAsync(secret, asBearer: true)).GetProperty("email").GetString().ShouldBe(admin.Email);
        (await MeAsync(secret, asBearer: false)).GetProperty("isAdmin").GetBoolean().ShouldBeTrue();
    }

    [Fact]
    public async Task KeyWithoutManage_IsRefusedOnTheApi_With403Problem()
    {
        var (_, client) = await SignedInAsync(admin: true);
        var secret = await CreateKeyAsync(client, "inference only");

        using var api = KeyClient(secret, asBearer: true);
        await (await api.GetAsync("/api/me")).ShouldBeProblemAsync(HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task Member_CannotGetManage_AndTheFormKeepsWhatWasTyped()
    {
        var (member, client) = await SignedInAsync();

        (await client.GetHtmlAsync("/keys")).ShouldNotContain("name=\"Form.Manage\"");
        var response = await client.PostFormAsync("/keys?handler=Create", new Dictionary<string, string>
        {
            ["Form.Name"] = "sneaky",
            ["Form.Metrics"] = "true",
            ["Form.Manage"] = "true",
        }, "/keys");

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        var html = await response.Content.ReadAsStringAsync();
        html.ShouldContain("Only administrators may create keys with the manage scope.");
        html.ShouldContain("value=\"sneaky\"");
        html.ShouldNotContain("new-key-secret");
        (await KeysOfAsync(member.Id)).ShouldBeEmpty();
    }

    [Fact]
    public async Task Create_WithoutNameOrWithPastExpiry_ReRendersWithErrors()
    {
        var (member, client) = await SignedInAsync();

        var html = await (await client.PostFormAsync("/keys?handler=Create", new Dictionary<string, string>
        {
            ["Form.Name"] = "",
            ["Form.ExpiresOn"] = "2020-01-01",
            ["Form.Inference"] = "true",
        }, "/keys")).Content.ReadAsStringAsync();

        html.ShouldContain("Give the key a name");
        html.ShouldContain("Choose a date after today");
        html.ShouldContain("value=\"2020-01-01\"");
        (await KeysOfAsync(member.Id)).ShouldBeEmpty();
    }

    [Fact]
    public async Task Secret_IsStoredOnlyAsItsHash_AndShownOnce()
    {
        var (member, client) = await SignedInAsync();
        var secret = await CreateKeyAsync(client, "hash check", expiresOn: DateOnly.FromDateTime(DateTime.UtcNow).AddDays(30));

        var key = (await KeysOfAsync(member.Id)).ShouldHaveSingleItem();
        key.SecretHash.ShouldBe(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));
        key.Prefix.ShouldBe(secret[..9]);
        key.LastFour.ShouldBe(secret[^4..]);
        key.Scopes.ShouldBe(ApiKeyScopes.Inference);
        await using (var db = OpenDatabase())
        {
            var row = string.Join("|", await db.Database.SqlQueryRaw<string>(
                "SELECT Name || Prefix || LastFour || hex(SecretHash) AS Value FROM ApiKeys").ToListAsync());
            row.ShouldNotContain(secret);
        }
        var listed = await client.GetHtmlAsync("/keys");
        listed.ShouldNotContain(secret);
        listed.ShouldContain($"{secret[..9]}…{secret[^4..]}");
    }

    [Fact]
    public async Task Revoke_IsImmediate()
    {
        var (admin, client) = await SignedInAsync(admin: true);
        var secret = await CreateKeyAsync(client, "to revoke", manage: true);
        var key = (await KeysOfAsync(admin.Id)).ShouldHaveSingleItem();
        (await MeAsync(secret, asBearer: true)).GetProperty("email").GetString().ShouldBe(admin.Email);

        var row = await (await client.HtmxPostAsync($"/keys?handler=Revoke&id={key.Id}", "/keys")).Content.ReadAsStringAsync();

        row.ShouldContain("revoked");
        using var api = KeyClient(secret, asBearer: true);
        await (await api.GetAsync("/api/me")).ShouldBeProblemAsync(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task ExpiredKey_IsRefused()
    {
        var (admin, client) = await SignedInAsync(admin: true);
        var secret = await CreateKeyAsync(client, "short-lived", manage: true, expiresOn: DateOnly.FromDateTime(DateTime.UtcNow).AddDays(1));
        (await MeAsync(secret, asBearer: false)).GetProperty("email").GetString().ShouldBe(admin.Email);

        // The chosen date has passed.
        await using (var db = OpenDatabase())
        {
            await db.ApiKeys.Where(key => key.UserId == admin.Id).ExecuteUpdateAsync(set => set.SetProperty(key => key.ExpiresAtUtc, DateTime.UtcNow.AddSeconds(-1)));
        }

        using var api = KeyClient(secret, asBearer: false);
        await (await api.GetAsync("/api/me")).ShouldBeProblemAsync(HttpStatusCode.Unauthorized);
        (await client.GetHtmlAsync("/keys")).ShouldContain("status-key-expired");
    }

    [Fact]
    public async Task OwnerDisabled_KeyIsRefusedAtOnce_OwnerDeleted_KeyIsGone()
    {
        var boss = await _app.CreateUserAsync(NewEmail(), admin: true);
        var (owner, client) = await SignedInAsync(admin: true);
        var secret = await CreateKeyAsync(client, "doomed", manage: true);
        (await MeAsync(secret, asBearer: true)).GetProperty("email").GetString().ShouldBe(owner.Email);

        (await _app.WithScopeAsync(services => services.GetRequiredService<UserAdministration>().DisableAsync(boss.Id, owner.Id))).Succeeded.ShouldBeTrue();
        using (var api = KeyClient(secret, asBearer: true))
        {
            await (await api.GetAsync("/api/me")).ShouldBeProblemAsync(HttpStatusCode.Unauthorized);
        }

        (await _app.WithScopeAsync(services => services.GetRequiredService<UserAdministration>().DeleteAsync(boss.Id, owner.Id))).Succeeded.ShouldBeTrue();
        (await KeysOfAsync(owner.Id)).ShouldBeEmpty();
        using (var api = KeyClient(secret, asBearer: false))
        {
            await (await api.GetAsync("/api/me")).ShouldBeProblemAsync(HttpStatusCode.Unauthorized);
        }
    }

    [Fact]
    public async Task ManageKey_StopsOpeningTheApi_WhenItsOwnerIsNoLongerAdmin()
    {
        var boss = await _app.CreateUserAsync(NewEmail(), admin: true);
        var (owner, client) = await SignedInAsync(admin: true);
        var secret = await CreateKeyAsync(client, "demoted", manage: true);
        (await MeAsync(secret, asBearer: true)).GetProperty("isAdmin").GetBoolean().ShouldBeTrue();

        (await _app.WithScopeAsync(services => services.GetRequiredService<UserAdministration>().DemoteAsync(boss.Id, owner.Id))).Succeeded.ShouldBeTrue();

        using var api = KeyClient(secret, asBearer: true);
        await (await api.GetAsync("/api/me")).ShouldBeProblemAsync(HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task Members_SeeOnlyTheirKeys_AnotherUsersKeyIs404_AdminsSeeAndRevokeAll()
    {
        var (member, memberClient) = await SignedInAsync();
        var (_, otherClient) = await SignedInAsync();
        var (_, adminClient) = await SignedInAsync(admin: true);
        await CreateKeyAsync(memberClient, "member key");
        var otherSecret = await CreateKeyAsync(otherClient, "other key");
        var othersKey = await KeyOfSecretAsync(otherSecret);

        var memberView = await memberClient.GetHtmlAsync("/keys");
        memberView.ShouldContain("member key");
        memberView.ShouldNotContain("other key");
        (await memberClient.HtmxPostAsync($"/keys?handler=Revoke&id={othersKey.Id}", "/keys")).StatusCode.ShouldBe(HttpStatusCode.NotFound);

        var adminView = await adminClient.GetHtmlAsync("/keys");
        adminView.ShouldContain("other key");
        adminView.ShouldContain(member.Email!);
        (await adminClient.HtmxPostAsync($"/keys?handler=Revoke&id={othersKey.Id}", "/keys")).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await KeyOfSecretAsync(otherSecret)).RevokedAtUtc.ShouldNotBeNull();
    }

    [Fact]
    public async Task Use_ShowsLastUsedTimeAndAddress_AndIsWrittenLater()
    {
        var (admin, client) = await SignedInAsync(admin: true);
        var secret = await CreateKeyAsync(client, "tracked", manage: true);
        LastUsedPattern().Match(await client.GetHtmlAsync("/keys")).Groups[1].Value.ShouldContain("never");

        await MeAsync(secret, asBearer: true);

        var lastUsed = LastUsedPattern().Match(await client.GetHtmlAsync("/keys")).Groups[1].Value;
        lastUsed.ShouldContain("<time datetime=");
        lastUsed.ShouldContain("from ");
        await using var db = OpenDatabase();
        await _app.Services.GetRequiredService<ApiKeyUse>().WriteAsync(db, CancellationToken.None);
        var stored = await db.ApiKeys.AsNoTracking().SingleAsync(key => key.UserId == admin.Id);
        stored.LastUsedAtUtc.ShouldNotBeNull();
        stored.LastUsedFrom.ShouldNotBeNullOrEmpty();
    }

    [Fact]
    public async Task UnknownKey_Is401Problem_AndJwtsStillWork()
    {
        var email = NewEmail();
        await _app.CreateUserAsync(email);
        using var unknown = KeyClient("mlxm_" + new string('A', 43), asBearer: false);
        var problem = await (await unknown.GetAsync("/api/me")).ShouldBeProblemAsync(HttpStatusCode.Unauthorized);
        problem.GetProperty("detail").GetString().ShouldNotBeNullOrEmpty();

        using var client = _app.CreateAppClient();
        var token = await (await client.Http.PostAsJsonAsync("/api/auth/token", new { email, password = TestPasswords.Default })).Content.ReadFromJsonAsync<JsonElement>();
        client.UseBearer(token.GetProperty("access_token").GetString()!);
        (await client.Http.GetFromJsonAsync<JsonElement>("/api/me")).GetProperty("email").GetString().ShouldBe(email);
    }

    [Fact]
    public async Task Key_DoesNotOpenPages()
    {
        var (_, client) = await SignedInAsync(admin: true);
        var secret = await CreateKeyAsync(client, "not for pages", manage: true);

        using var api = KeyClient(secret, asBearer: false);
        (await api.GetAsync("/keys")).StatusCode.ShouldBe(HttpStatusCode.Forbidden);
    }

    private static string NewEmail() => $"keys-{Guid.NewGuid():N}@example.com";

    private async Task<(AppUser User, AppClient Client)> SignedInAsync(bool admin = false)
    {
        var user = await _app.CreateUserAsync(NewEmail(), admin: admin);
        var client = _app.CreateAppClient();
        await client.SignInAsync(user.Email!);
        return (user, client);
    }

    /// <summary>Creates a key through the page, as a browser posts the form, and reads the secret shown once.</summary>
    private static async Task<string> CreateKeyAsync(AppClient client, string name, bool manage = false, DateOnly? expiresOn = null)
    {
        var fields = new Dictionary<string, string> { ["Form.Name"] = name, ["Form.Inference"] = "true" };
        if (manage)
        {
            fields["Form.Manage"] = "true";
        }
        if (expiresOn is { } date)
        {
            fields["Form.ExpiresOn"] = date.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        }
        var response = await client.PostFormAsync("/keys?handler=Create", fields, "/keys");
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        var match = SecretPattern().Match(await response.Content.ReadAsStringAsync());
        match.Success.ShouldBeTrue("the page shows the new key's secret");
        return match.Groups[1].Value;
    }

    private HttpClient KeyClient(string secret, bool asBearer)
    {
        var client = _app.CreateClient();
        if (asBearer)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", secret);
        }
        else
        {
            client.DefaultRequestHeaders.Add("x-api-key", secret);
        }
        return client;
    }

    private async Task<JsonElement> MeAsync(string secret, bool asBearer)
    {
        using var api = KeyClient(secret, asBearer);
        var response = await api.GetAsync("/api/me");
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    private AppDbContext OpenDatabase() => _app.Services.CreateScope().ServiceProvider.GetRequiredService<AppDbContext>();

    private async Task<List<ApiKey>> KeysOfAsync(string userId)
    {
        await using var db = OpenDatabase();
        return await db.ApiKeys.AsNoTracking().Where(key => key.UserId == userId).ToListAsync();
    }

    private async Task<ApiKey> KeyOfSecretAsync(string secret)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(secret));
        await using var db = OpenDatabase();
        return await db.ApiKeys.AsNoTracking().SingleAsync(key => key.SecretHash == hash);
    }

    [GeneratedRegex("data-testid=\"new-key-secret\">(mlxm_[0-9A-Za-z]+)<")]
    private static partial Regex SecretPattern();

    [GeneratedRegex("data-testid=\"key-last-used\">([\\s\\S]*?)</td>")]
    private static partial Regex LastUsedPattern();
}
