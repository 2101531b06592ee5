using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using MlxManager.Core.Accounts;
using MlxManager.Core.Accounts.Keys;
using MlxManager.Core.Data;
using MlxManager.Web.Accounts;

namespace MlxManager.Web.Hosting;

/// <summary>
/// Accounts and sign-in: ASP.NET Core Identity on app.db; browser sessions are a cookie valid
/// <see cref="AccountOptions.SessionLifetime"/> (7 days, not sliding: a week after signing in you sign
/// in again); API clients use bearer JWTs of the same lifetime or personal API keys. A policy scheme picks the
/// key scheme when the request carries a key (<c>x-api-key</c> or <c>Bearer mlxm_…</c>), bearer JWT when it has
/// another <c>Authorization</c> header or targets <c>/api/*</c>, and the cookie otherwise.
/// </summary>
public static partial class AccountsHosting
{
    /// <summary>Name of the policy scheme that forwards to the cookie or the bearer handler.</summary>
    public const string CookieOrBearerScheme = "CookieOrBearer";

    /// <summary>Name of the browser session cookie.</summary>
    public const string SessionCookieName = "mlxmanager.session";

    public static WebApplicationBuilder AddAccounts(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<AccountOptions>().BindConfiguration(AccountOptions.Section);
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<AccountWriteGate>();
        services.AddSingleton<AccountSnapshots>();
        services.AddSingleton<ApiSigningKey>();
        services.AddHostedService<SigningKeyStartup>(); // generate the key at first start, not at the first API call
        services.AddSingleton<ApiTokens>();
        services.AddScoped<AccountRegistration>();
        services.AddScoped<UserAdministration>();
        services.AddOptions<SignInLockoutOptions>().BindConfiguration(SignInLockoutOptions.Section);
        services.AddSingleton<SignInFailures>();
        services.AddScoped<SignInLockout>();
        services.AddScoped<PersonalApiKeys>();
        services.AddSingleton<ApiKeyUse>();
        services.AddHostedService<ApiKeyUseWriter>();

        services.AddIdentity<AppUser, IdentityRole>(options =>
            {
                options.User.RequireUniqueEmail = true;
                options.Password.RequiredLength = 8;
                options.Password.RequireDigit = false;
                options.Password.RequireLowercase = false;
                options.Password.RequireUppercase = false;
                options.Password.RequireNonAlphanumeric = false;
                options.Password.RequiredUniqueChars = 1;
                // No per-account lockout: anyone could keep an account locked from anywhere. SignInLockout locks
                // per (e-mail, client address) instead.
                options.Lockout.AllowedForNewUsers = false;
                options.SignIn.RequireConfirmedAccount = false;
            })
            .AddEntityFrameworkStores<AppDbContext>()
            .AddDefaultTokenProviders();

        services.AddSingleton<SessionCookieEvents>();
        services.AddSingleton<ApiTokenEvents>();
        services.AddOptions<CookieAuthenticationOptions>(IdentityConstants.ApplicationScheme)
            .Configure<IOptions<AccountOptions>>((cookie, accounts) =>
            {
                cookie.Cookie.Name = SessionCookieName;
                cookie.Cookie.HttpOnly = true;
                cookie.Cookie.SameSite = SameSiteMode.Lax;
                cookie.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest; // plain HTTP on localhost is the default set-up
                cookie.ExpireTimeSpan = accounts.Value.SessionLifetime;
                cookie.SlidingExpiration = false;
                cookie.LoginPath = "/login";
                cookie.LogoutPath = "/logout";
                cookie.AccessDeniedPath = "/status/403";
                cookie.ReturnUrlParameter = "returnUrl";
                cookie.EventsType = typeof(SessionCookieEvents);
            });
        services.AddOptions<SecurityStampValidatorOptions>()
            .Configure<IOptions<AccountOptions>>((validator, accounts) =>
                validator.ValidationInterval = accounts.Value.SessionRevalidationInterval);

        services.AddAuthentication(options =>
            {
                options.DefaultScheme = CookieOrBearerScheme;
                options.DefaultAuthenticateScheme = CookieOrBearerScheme;
                options.DefaultChallengeScheme = CookieOrBearerScheme;
                options.DefaultForbidScheme = CookieOrBearerScheme;
            })
            .AddPolicyScheme(CookieOrBearerScheme, "Session cookie or bearer token", options =>
                options.ForwardDefaultSelector = context =>
                    ApiKeyAuthentication.CarriesKey(context.Request) ? ApiKeyAuthentication.Scheme
                    : context.Request.Headers.Authorization.Count > 0 || context.IsApiRequest() ? JwtBearerDefaults.AuthenticationScheme
                    : IdentityConstants.ApplicationScheme)
            .AddJwtBearer()
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthentication.Scheme, "Personal API key", _ => { });
        services.AddOptions<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme)
            .Configure<ApiSigningKey, TimeProvider>((options, key, time) => ApiTokens.Configure(options, key, time));

        services.AddSingleton<IAuthorizationHandler, AccountAccessHandler>();
        var activeUser = new AuthorizationPolicyBuilder()
            .RequireAuthenticatedUser()
            .AddRequirements(new ActiveAccountRequirement())
            .Build();
        services.AddAuthorizationBuilder()
            .AddPolicy(AccountPolicies.ActiveUser, activeUser)
            .AddPolicy(AccountPolicies.SignedIn, policy => policy
                .RequireAuthenticatedUser()
                .RequireAssertion(context => ApiKeyAuthentication.ScopesOf(context.User) is null)) // /pending and /logout are for browsers
            .AddPolicy(AccountPolicies.Admin, policy => policy
                .RequireAuthenticatedUser()
                .AddRequirements(new ActiveAccountRequirement(), new AdminRequirement()))
            .AddPolicy(AccountPolicies.Inference, policy => policy
                .RequireAuthenticatedUser()
                .AddRequirements(new ActiveAccountRequirement(), new ApiKeyScopeRequirement(ApiKeyScopes.Inference)))
            .AddPolicy(AccountPolicies.Metrics, policy => policy
                .RequireAuthenticatedUser()
                .AddRequirements(new ActiveAccountRequirement(), new ApiKeyScopeRequirement(ApiKeyScopes.Metrics, OthersNeedAdmin: true)))
            .SetDefaultPolicy(activeUser)
            .SetFallbackPolicy(activeUser);
        return builder;
    }

    private sealed partial class SigningKeyStartup(ApiSigningKey key, ILogger<SigningKeyStartup> logger) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            LogKey(key.FilePath);
            return Task.CompletedTask;
        }

        [LoggerMessage(Level = LogLevel.Information, Message = "API tokens are signed with the key in {Path}")]
        private partial void LogKey(string path);

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
