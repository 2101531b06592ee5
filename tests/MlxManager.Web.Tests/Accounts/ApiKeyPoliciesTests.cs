using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using MlxManager.Core.Accounts;
using MlxManager.Core.Accounts.Keys;
using MlxManager.Web.Accounts;
using MlxManager.Web.Tests.Infrastructure;

namespace MlxManager.Web.Tests.Accounts;

/// <summary>
/// The hooks other endpoint groups use: <see cref="AccountPolicies.Inference"/> and <see cref="AccountPolicies.Metrics"/>,
/// checked against principals the real key handler authenticates from real keys in the real database.
/// </summary>
public sealed class ApiKeyPoliciesTests : IClassFixture<MlxManagerFactory>
{
    private readonly MlxManagerFactory _app;

    public ApiKeyPoliciesTests(MlxManagerFactory app) => _app = app;

    [Theory]
    [InlineData(ApiKeyScopes.Inference, AccountPolicies.Inference, true)]
    [InlineData(ApiKeyScopes.Metrics, AccountPolicies.Inference, false)]
    [InlineData(ApiKeyScopes.Metrics, AccountPolicies.Metrics, true)]
    [InlineData(ApiKeyScopes.Inference, AccountPolicies.Metrics, false)]
    [InlineData(ApiKeyScopes.Inference, AccountPolicies.ActiveUser, false)]
    public async Task MemberKey_MeetsAScopePolicy_OnlyWithThatScope(ApiKeyScopes scopes, string policy, bool allowed)
    {
        var member = await _app.CreateUserAsync(NewEmail());
        var principal = await AuthenticateAsync(await CreateKeyAsync(member.Id, admin: false, scopes));

        (await AuthorizeAsync(principal, policy)).ShouldBe(allowed);
    }

    [Theory]
    [InlineData(false, AccountPolicies.Inference, true)]
    [InlineData(false, AccountPolicies.Metrics, false)]
    [InlineData(true, AccountPolicies.Metrics, true)]
    public async Task WithoutAKey_InferenceNeedsAnActiveAccount_MetricsAnAdmin(bool admin, string policy, bool allowed)
    {
        var user = await _app.CreateUserAsync(NewEmail(), admin: admin);
        var principal = new ClaimsPrincipal(new ClaimsIdentity([new Claim(JwtRegisteredClaimNames.Sub, user.Id)], "Bearer"));

        (await AuthorizeAsync(principal, policy)).ShouldBe(allowed);
    }

    [Fact]
    public async Task KeyOfADisabledOwner_IsNotAuthenticated()
    {
        var admin = await _app.CreateUserAsync(NewEmail(), admin: true);
        var member = await _app.CreateUserAsync(NewEmail());
        var secret = await CreateKeyAsync(member.Id, admin: false, ApiKeyScopes.Inference);
        (await AuthenticateAsync(secret)).ShouldNotBeNull();

        (await _app.WithScopeAsync(services => services.GetRequiredService<UserAdministration>().DisableAsync(admin.Id, member.Id))).Succeeded.ShouldBeTrue();

        (await AuthenticateAsync(secret)).ShouldBeNull();
    }

    private static string NewEmail() => $"policy-{Guid.NewGuid():N}@example.com";

    private Task<string> CreateKeyAsync(string userId, bool admin, ApiKeyScopes scopes) =>
        _app.WithScopeAsync(async services =>
        {
            var creation = await services.GetRequiredService<PersonalApiKeys>().CreateAsync(new KeyViewer(userId, admin), new NewApiKey("policy test", null, scopes));
            creation.Succeeded.ShouldBeTrue();
            return creation.Secret!;
        });

    /// <summary>What the default scheme makes of a request carrying <paramref name="secret"/> in <c>x-api-key</c>.</summary>
    private Task<ClaimsPrincipal?> AuthenticateAsync(string secret) =>
        _app.WithScopeAsync(async services =>
        {
            var http = new DefaultHttpContext { RequestServices = services };
            http.Request.Path = "/v1/models";
            http.Request.Headers[ApiKeyAuthentication.HeaderName] = secret;
            var result = await http.AuthenticateAsync();
            return result.Succeeded ? result.Principal : null;
        });

    private Task<bool> AuthorizeAsync(ClaimsPrincipal? principal, string policy) =>
        _app.WithScopeAsync(async services =>
            principal is not null && (await services.GetRequiredService<IAuthorizationService>().AuthorizeAsync(principal, policy)).Succeeded);
}
