using System.IdentityModel.Tokens.Jwt;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using MlxManager.Core.Accounts;
using MlxManager.Core.Data;
using MlxManager.Web.Tests.Infrastructure;

namespace MlxManager.Web.Tests.Endpoints;

/// <summary>AUTH-03: API clients exchange e-mail and password for a bearer JWT valid 7 days.</summary>
public sealed class AccountEndpointsTests : IClassFixture<MlxManagerFactory>
{
    private readonly MlxManagerFactory _app;

    public AccountEndpointsTests(MlxManagerFactory app) => _app = app;

    private static string NewEmail() => $"api-{Guid.NewGuid():N}@example.com";

    [Fact]
    public async Task Token_ForActiveUser_IsValidSevenDaysAndOpensTheApi()
    {
        var email = NewEmail();
        var user = await _app.CreateUserAsync(email);
        using var client = _app.CreateAppClient();

        var token = await IssueAsync(client, email);

        var jwt = new JwtSecurityTokenHandler().ReadJwtToken(token.GetProperty("access_token").GetString());
        (jwt.ValidTo - jwt.ValidFrom).ShouldBe(TimeSpan.FromDays(7));
        jwt.Subject.ShouldBe(user.Id);
        token.GetProperty("token_type").GetString().ShouldBe("Bearer");
        client.UseBearer(jwt.RawData);
        var me = await client.Http.GetFromJsonAsync<JsonElement>("/api/me");
        me.GetProperty("email").GetString().ShouldBe(email);
        me.GetProperty("status").GetString().ShouldBe("active");
    }

    [Fact]
    public async Task Token_WrongPassword_Is401ProblemWithoutSayingWhichPartWasWrong()
    {
        var email = NewEmail();
        await _app.CreateUserAsync(email);
        using var client = _app.CreateAppClient();

        var wrongPassword = await (await client.Http.PostAsJsonAsync("/api/auth/token", new { email, password = "nope nope nope" })).ShouldBeProblemAsync(HttpStatusCode.Unauthorized);
        var unknownEmail = await (await client.Http.PostAsJsonAsync("/api/auth/token", new { email = NewEmail(), password = "nope nope nope" })).ShouldBeProblemAsync(HttpStatusCode.Unauthorized);

        wrongPassword.GetProperty("title").GetString().ShouldBe(unknownEmail.GetProperty("title").GetString());
    }

    [Theory]
    [InlineData("{}")]
    [InlineData("{\"email\":\"not-an-email\",\"password\":\"x\"}")]
    [InlineData("{\"email\":\"a@example.com\"}")]
    public async Task Token_InvalidBody_Is400ValidationProblem(string body)
    {
        using var client = _app.CreateAppClient();

        var response = await client.Http.PostAsync("/api/auth/token", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));

        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest);
        problem.GetProperty("errors").EnumerateObject().ShouldNotBeEmpty();
    }

    [Fact]
    public async Task Token_MalformedJson_Is400NotA500()
    {
        using var client = _app.CreateAppClient();

        var response = await client.Http.PostAsync("/api/auth/token", new StringContent("{\"email\": ", System.Text.Encoding.UTF8, "application/json"));

        await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Token_ForPendingUser_IsRefused()
    {
        var email = NewEmail();
        await _app.CreateUserAsync(email, status: UserStatus.Pending);
        using var client = _app.CreateAppClient();

        var problem = await (await client.Http.PostAsJsonAsync("/api/auth/token", new { email, password = TestPasswords.Default })).ShouldBeProblemAsync(HttpStatusCode.Forbidden);

        problem.GetProperty("title").GetString()!.ShouldContain("approval");
    }

    [Theory]
    [InlineData("disable")]
    [InlineData("delete")]
    [InlineData("reset-password")]
    public async Task Token_AfterAdminChange_IsRefusedAtOnce(string change)
    {
        var admin = await _app.CreateUserAsync(NewEmail(), admin: true);
        var email = NewEmail();
        var user = await _app.CreateUserAsync(email);
        using var client = _app.CreateAppClient();
        client.UseBearer((await IssueAsync(client, email)).GetProperty("access_token").GetString()!);
        (await client.GetAsync("/api/me")).StatusCode.ShouldBe(HttpStatusCode.OK);

        var result = await _app.WithScopeAsync(services =>
        {
            var administration = services.GetRequiredService<UserAdministration>();
            return change switch
            {
                "disable" => administration.DisableAsync(admin.Id, user.Id),
                "delete" => administration.DeleteAsync(admin.Id, user.Id),
                _ => administration.ResetPasswordAsync(admin.Id, user.Id, "a brand new password"),
            };
        });
        result.Succeeded.ShouldBeTrue(result.Error);

        await (await client.GetAsync("/api/me")).ShouldBeProblemAsync(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Token_SignedWithAnotherInstallationsKey_IsRefused()
    {
        var email = NewEmail();
        await _app.CreateUserAsync(email);
        await using var other = new MlxManagerFactory();
        await other.CreateUserAsync(email);
        using var otherClient = other.CreateAppClient();
        var foreignToken = (await IssueAsync(otherClient, email)).GetProperty("access_token").GetString()!;
        using var client = _app.CreateAppClient();
        client.UseBearer(foreignToken);

        await (await client.GetAsync("/api/me")).ShouldBeProblemAsync(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task SigningKey_IsGeneratedAtFirstStartInTheKeysFolderAndIsNotShared()
    {
        var keyFile = Path.Combine(_app.DataFolder.Path, "keys", ApiSigningKey.FileName);
        _app.Services.GetRequiredService<DataDirectory>(); // host started

        File.Exists(keyFile).ShouldBeTrue();
        Convert.FromBase64String(File.ReadAllText(keyFile)).Length.ShouldBeGreaterThanOrEqualTo(64);
        await using var other = new MlxManagerFactory();
        other.Services.GetRequiredService<DataDirectory>();
        File.ReadAllText(Path.Combine(other.DataFolder.Path, "keys", ApiSigningKey.FileName)).ShouldNotBe(File.ReadAllText(keyFile));
        if (!OperatingSystem.IsWindows())
        {
            File.GetUnixFileMode(keyFile).ShouldBe(UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
    }

    [Fact]
    public async Task Token_StillWorksAfterARestart()
    {
        using var folder = new TestDataFolder();
        string token;
        await using (var first = MlxManagerFactory.OnFolder(folder))
        {
            await first.CreateUserAsync("api-restart@example.com");
            using var client = first.CreateAppClient();
            token = (await IssueAsync(client, "api-restart@example.com")).GetProperty("access_token").GetString()!;
        }

        await using var second = MlxManagerFactory.OnFolder(folder);
        using var restarted = second.CreateAppClient();
        restarted.UseBearer(token);

        (await restarted.GetAsync("/api/me")).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task BearerHeader_OnAPage_IsUsedInsteadOfTheCookie()
    {
        var email = NewEmail();
        await _app.CreateUserAsync(email);
        using var client = _app.CreateAppClient();
        client.UseBearer((await IssueAsync(client, email)).GetProperty("access_token").GetString()!);

        (await client.GetAsync("/models")).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    private static async Task<JsonElement> IssueAsync(AppClient client, string email)
    {
        var response = await client.Http.PostAsJsonAsync("/api/auth/token", new { email, password = TestPasswords.Default });
        response.StatusCode.ShouldBe(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }
}
