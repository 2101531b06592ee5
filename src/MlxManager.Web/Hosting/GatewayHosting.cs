using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;
using MlxManager.Core.Accounts.Keys;
using MlxManager.Core.Gateway;
using MlxManager.Web.Accounts;
using MlxManager.Web.Endpoints;

namespace MlxManager.Web.Hosting;

/// <summary>
/// The OpenAI-compatible gateway at <c>/v1</c> (settings <c>MlxManager:Gateway</c>, see <see cref="GatewayOptions"/>).
/// Its endpoints authenticate with the API's bearer tokens only — the browser cookie is not accepted, so a page cannot
/// be made to spend a user's models — and need an active account; refusals are answered in OpenAI's error shape by
/// <see cref="GatewayAuthorizationResultHandler"/>. The idle unloader runs as a hosted service.
/// </summary>
public static class GatewayHosting
{
    /// <summary>Bearer token of an active account; nothing else.</summary>
    public const string ClientPolicy = "GatewayClient";

    public static WebApplicationBuilder AddGateway(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<GatewayOptions>().BindConfiguration(GatewayOptions.SectionName);
        services.AddSingleton<GatewayRouter>();
        services.AddSingleton<GatewayLanes>();
        services.AddSingleton<GatewayStarter>();
        services.AddSingleton<GatewayModelCatalog>();
        services.AddSingleton<GatewayMetering>();
        services.AddSingleton<GatewayServices>();
        services.AddHttpClient<GatewayForwarder>(client => client.Timeout = Timeout.InfiniteTimeSpan);
        services.AddHostedService<GatewayIdleUnloader>();
        services.AddAuthorizationBuilder().AddPolicy(ClientPolicy, policy => policy
            .AddAuthenticationSchemes(JwtBearerDefaults.AuthenticationScheme, ApiKeyAuthentication.Scheme)
            .RequireAuthenticatedUser()
            .AddRequirements(new ActiveAccountRequirement(), new ApiKeyScopeRequirement(ApiKeyScopes.Inference)));
        services.AddSingleton<IAuthorizationMiddlewareResultHandler, GatewayAuthorizationResultHandler>();
        return builder;
    }

    public static WebApplication MapGateway(this WebApplication app)
    {
        app.MapGatewayEndpoints();
        return app;
    }
}

/// <summary>
/// Answers refused gateway requests as OpenAI clients expect — 401 <c>invalid_api_key</c> (no or a bad, expired or
/// revoked token) or 403 (the account is not active) in <c>{"error":…}</c> — and leaves every other endpoint to the
/// default handler (problem details for /api, the login redirect for pages).
/// </summary>
public sealed class GatewayAuthorizationResultHandler : IAuthorizationMiddlewareResultHandler
{
    private readonly AuthorizationMiddlewareResultHandler _default = new();

    public Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult authorizeResult)
    {
        if (context.GetEndpoint()?.Metadata.GetMetadata<GatewayEndpointMetadata>() is null || authorizeResult.Succeeded)
        {
            return _default.HandleAsync(next, context, policy, authorizeResult);
        }

        return GatewayEndpoints.WriteErrorAsync(context, authorizeResult.Challenged
            ? new GatewayException(StatusCodes.Status401Unauthorized, "invalid_request_error", "invalid_api_key",
                "Send 'Authorization: Bearer <key>' with a personal API key that has the inference scope (create one on /keys), or a token from POST /api/auth/token. The browser session is not accepted here.")
            : new GatewayException(StatusCodes.Status403Forbidden, "invalid_request_error", "account_not_active",
                "The account of this token is not active."));
    }
}
