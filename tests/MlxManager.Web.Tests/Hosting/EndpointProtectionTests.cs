using System.Net;
using System.Net.Http.Headers;
using System.Reflection;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;
using Microsoft.Extensions.DependencyInjection;
using MlxManager.Core.Accounts;
using MlxManager.Web.Hosting;
using MlxManager.Core.Accounts.Keys;
using MlxManager.Web.Accounts;
using MlxManager.Web.Tests.Infrastructure;
using Xunit.Abstractions;
using static MlxManager.Web.Tests.Hosting.EndpointProtectionTests.Access;

namespace MlxManager.Web.Tests.Hosting;

/// <summary>
/// Every endpoint the app maps and every Razor page handler (<c>On{Verb}{Handler}[Async]</c> of each page model) has a
/// declared <see cref="Access"/> in <see cref="Expectations"/>, and answers each caller — anonymous, pending, approved
/// member, admin — as that access says, with valid values for its route constraints. Browser POSTs are sent without
/// and with an antiforgery token. No caller ever gets a 5xx. A new endpoint or handler without a row fails here.
/// </summary>
public sealed partial class EndpointProtectionTests : IClassFixture<EndpointProtectionTests.Callers>
{
    /// <summary>Who may use an endpoint.</summary>
    public enum Access
    {
        /// <summary>Anyone, signed in or not.</summary>
        Anyone,

        /// <summary>Signed in, whatever the account's status (/pending, /logout).</summary>
        SignedIn,

        /// <summary>An active account (the fallback policy).</summary>
        Member,

        /// <summary>An active admin (admin pages, [AdminOnly] handlers, admin endpoints).</summary>
        Admin,

        /// <summary>Like <see cref="Member"/>, for a browser POST that takes no antiforgery token (it is not a form post).</summary>
        MemberWithoutForm,

        /// <summary>Like <see cref="Admin"/>, for a browser POST that takes no antiforgery token of ours.</summary>
        AdminWithoutForm,

        /// <summary>
        /// /metrics: like <see cref="Admin"/> for sessions and tokens; a personal key with the metrics scope reaches it
        /// whoever owns it (an active account).
        /// </summary>
        MetricsReader,

        /// <summary>
        /// /error and /status/{code}: shown to anyone for any method (they render re-executed requests, so they take no
        /// antiforgery token) and answer the status they describe: 500 for /error opened directly, the code otherwise.
        /// </summary>
        StatusPage,
    }

    /// <summary>
    /// The declared access of every endpoint (<c>VERB /route</c>) and page handler (<c>VERB /page?handler=Name</c>).
    /// </summary>
    private static readonly Dictionary<string, Access> Expectations = new()
    {
        // Account pages and API sign-in
        ["GET /login"] = Anyone,
        ["POST /login"] = Anyone,
        ["GET /register"] = Anyone,
        ["POST /register"] = Anyone,
        ["GET /pending"] = SignedIn,
        ["GET /logout"] = SignedIn,
        ["POST /logout"] = SignedIn,
        ["POST /api/auth/token"] = Anyone,
        ["GET /api/me"] = Member,
        // The OpenAI-compatible gateway: bearer only (API token or a key with the inference scope), like /api
        ["POST /v1/chat/completions"] = Member,
        ["POST /v1/completions"] = Member,
        ["GET /v1/models"] = Member,
        ["GET /v1/models/{**id}"] = Member,
        ["GET /_htmx/antiforgery.js"] = Anyone,
        // Prometheus scrapes: an admin's session or a key with the metrics scope
        ["GET /metrics"] = MetricsReader,

        // Shown to anyone
        ["GET /error"] = StatusPage,
        ["POST /error"] = StatusPage,
        ["GET /status/{code:int}"] = StatusPage,
        ["POST /status/{code:int}"] = StatusPage,

        // Home, models, downloads
        ["GET /"] = Member,
        ["GET /models"] = Member,
        ["POST /models?handler=Delete"] = Admin,
        ["POST /models?handler=Download"] = Admin,
        ["GET /downloads/tiles"] = Member,
        ["GET /downloads/events"] = Member,
        ["POST /downloads/{id:int}/pause"] = Admin,
        ["POST /downloads/{id:int}/resume"] = Admin,
        ["POST /downloads/{id:int}/cancel"] = Admin,
        ["POST /downloads/{id:int}/retry"] = Admin,
        ["POST /downloads/{id:int}/dismiss"] = Admin,
        ["GET /api/downloads/"] = Member,
        ["GET /api/downloads/{id:int}"] = Member,
        ["POST /api/downloads/"] = Admin,
        ["POST /api/downloads/{id:int}/pause"] = Admin,
        ["POST /api/downloads/{id:int}/resume"] = Admin,
        ["POST /api/downloads/{id:int}/cancel"] = Admin,
        ["POST /api/downloads/{id:int}/retry"] = Admin,
        ["POST /api/downloads/{id:int}/dismiss"] = Admin,

        // Profiles
        ["GET /profiles"] = Member,
        ["POST /profiles?handler=Duplicate"] = Admin,
        ["GET /profiles/new"] = Admin,
        ["POST /profiles/new"] = Admin,
        ["POST /profiles/new?handler=Live"] = Admin,
        ["GET /profiles/{id:int}/edit"] = Admin,
        ["POST /profiles/{id:int}/edit"] = Admin,
        ["POST /profiles/{id:int}/edit?handler=Live"] = Admin,
        ["GET /profiles/{id:int}/delete"] = Admin,
        ["POST /profiles/{id:int}/delete"] = Admin,

        // Servers
        ["GET /servers"] = Member,
        ["GET /servers?handler=Live"] = Member,
        ["GET /servers?handler=LogLines"] = Member,
        ["GET /servers?handler=Log"] = Member,
        ["POST /servers?handler=Start"] = Admin,
        ["POST /servers?handler=Stop"] = Admin,
        ["POST /servers?handler=Restart"] = Admin,
        ["POST /servers?handler=Dismiss"] = Admin,
        ["GET /servers/events"] = Member,

        // Chat
        ["GET /chat/{id:int?}"] = Member,
        ["GET /chat/{id:int?}?handler=Messages"] = Member,
        ["GET /chat/{id:int?}?handler=ServerStatus"] = Member,
        ["POST /chat/{id:int?}?handler=New"] = Member,
        ["POST /chat/{id:int?}?handler=Start"] = Member, // the handler itself lets only admins start a server
        ["POST /chat/{id:int?}?handler=Rename"] = Member,
        ["POST /chat/{id:int?}?handler=Delete"] = Member,
        ["POST /chat/{id:int?}?handler=Settings"] = Member,
        ["POST /chat/{id:int?}?handler=Send"] = Member,
        ["POST /chat/{id:int?}?handler=Stop"] = Member,
        ["GET /chat/turns/{turnId:guid}/events"] = Member,
        ["GET /chat/attachments/{id:long}"] = Member,
        ["POST /mcp/"] = MemberWithoutForm, // JSON-RPC from the chat's MCP client with a bearer token, not a form

        // Personal API keys (a member's own; admins everyone's; another's key id is 404 inside the handler)
        ["GET /connect"] = Member,
        ["GET /keys"] = Member,
        ["POST /keys?handler=Create"] = Member,
        ["POST /keys?handler=Revoke"] = Member,

        // Usage (each member's own; admins everyone's)
        ["GET /usage"] = Member,
        ["GET /usage?handler=InUse"] = Member,
        ["GET /usage?handler=Csv"] = Member,

        // Administration
        ["GET /admin/users"] = Admin,
        ["GET /admin/users?handler=PendingBadge"] = Admin,
        ["POST /admin/users?handler=Approve"] = Admin,
        ["POST /admin/users?handler=Disable"] = Admin,
        ["POST /admin/users?handler=Enable"] = Admin,
        ["POST /admin/users?handler=Promote"] = Admin,
        ["POST /admin/users?handler=Demote"] = Admin,
        ["POST /admin/users?handler=ResetPassword"] = Admin,
        ["POST /admin/users?handler=Delete"] = Admin,
        ["POST /admin/users?handler=Quota"] = Admin,
        ["GET /admin/settings"] = Admin,
        ["POST /admin/settings?handler=Token"] = Admin,
        ["POST /admin/settings?handler=ClearToken"] = Admin,
        ["POST /admin/settings?handler=Search"] = Admin,
        ["POST /admin/settings?handler=Folders"] = Admin,
        ["POST /admin/settings?handler=Quotas"] = Admin,
        ["GET /admin/mcp-servers"] = Admin,
        ["POST /admin/mcp-servers?handler=Add"] = Admin,
        ["POST /admin/mcp-servers?handler=Toggle"] = Admin,
        ["POST /admin/mcp-servers?handler=Delete"] = Admin,
        ["GET /admin/jobs/{**path}"] = Admin,
        ["POST /admin/jobs/{**path}"] = AdminWithoutForm, // Hangfire's dashboard checks its own requests
    };

    /// <summary>Valid sample values, by route constraint (then by parameter name).</summary>
    private static readonly Dictionary<string, string> Samples = new()
    {
        ["int"] = "1",
        ["long"] = "1",
        ["guid"] = "0f8fad5b-d9cb-469f-a165-70867728950e",
        ["code"] = "404",
    };

    private readonly Callers _callers;
    private readonly ITestOutputHelper _output;

    public EndpointProtectionTests(Callers callers, ITestOutputHelper output)
    {
        _callers = callers;
        _output = output;
    }

    public static IEnumerable<object[]> EndpointKeys()
    {
        using var app = new MlxManagerFactory();
        return Enumerate(app).Select(endpoint => new object[] { endpoint.Key }).ToList();
    }

    [Fact]
    public void Expectations_NameEveryEndpointAndHandler_AndNothingElse()
    {
        var found = Enumerate(_callers.App).Select(endpoint => endpoint.Key).ToHashSet();

        found.Except(Expectations.Keys).Order().ShouldBeEmpty("endpoints or page handlers without a declared expectation: add a row to Expectations");
        Expectations.Keys.Except(found).Order().ShouldBeEmpty("expectations for endpoints or handlers that no longer exist");
    }

    [Fact]
    public void Enumeration_FindsPagesHandlersAndTheApi()
    {
        var found = Enumerate(_callers.App).ToList();
        _output.WriteLine($"{found.Count} routes and handlers");

        found.Count(endpoint => endpoint.Handler is not null).ShouldBeGreaterThan(30);
        new[] { "GET /", "GET /models", "POST /servers?handler=Start", "GET /chat/turns/{turnId:guid}/events", "GET /chat/attachments/{id:long}", "POST /profiles/{id:int}/edit?handler=Live", "GET /api/me", "GET /admin/jobs/{**path}" }
            .ShouldAllBe(key => found.Any(endpoint => endpoint.Key == key));
    }

    [Theory]
    [MemberData(nameof(EndpointKeys))]
    public async Task Endpoint_AnswersEveryRoleAsDeclared(string key)
    {
        var endpoint = Enumerate(_callers.App).Single(candidate => candidate.Key == key);
        var access = Expectations.GetValueOrDefault(key);
        Expectations.ContainsKey(key).ShouldBeTrue($"{key} has no declared expectation");

        foreach (var role in Enum.GetValues<Role>())
        {
            await CheckAsync(endpoint, access, role);
        }
    }

    /// <summary>
    /// Personal API keys (sent as <c>x-api-key</c>) reach <c>/api</c> only with the <c>manage</c> scope held by an admin,
    /// and endpoints requiring the Inference or Metrics policy with that scope (every key here holds both), then exactly
    /// as their owner's token does; every page and browser endpoint refuses them.
    /// </summary>
    [Theory]
    [MemberData(nameof(EndpointKeys))]
    public async Task Endpoint_AnswersPersonalKeysByScope(string key)
    {
        var endpoint = Enumerate(_callers.App).Single(candidate => candidate.Key == key);
        var access = Expectations.GetValueOrDefault(key);
        foreach (var (name, owner, secret, opensApi) in _callers.Keys)
        {
            using var request = new HttpRequestMessage(new HttpMethod(endpoint.Method), endpoint.Url);
            request.Content = endpoint.Method == "GET" ? null : endpoint.IsApi ? new StringContent("{}", new MediaTypeHeaderValue("application/json")) : new FormUrlEncodedContent([]);
            request.Headers.Add("x-api-key", secret);
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            using var response = await _callers.Client(Role.Anonymous).Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            Describe(endpoint, owner, name, response);
            if (access == StatusPage)
            {
                ((int)response.StatusCode).ShouldBe(StatusPageCode(endpoint), $"{key} with {name}");
                continue;
            }
            var expected = access == Anyone ? Outcome.Allowed
                : endpoint.TakesKeys || (endpoint.IsApi && opensApi) ? Expected(access == MetricsReader ? Member : access, owner)
                : Outcome.Forbidden;
            ShouldBe(response, expected, endpoint, owner);
        }
    }

    [Theory]
    [InlineData("/login")]
    [InlineData("/register")]
    [InlineData("/css/site.css")]
    [InlineData("/js/site.js")]
    [InlineData("/lib/htmx/htmx.min.js")]
    [InlineData("/lib/pico/pico.min.css")]
    [InlineData("/_htmx/antiforgery.js")]
    public async Task AnonymousPagesAndStaticFiles_AreServedAnonymously(string url)
    {
        using var client = _callers.App.CreateAppClient();

        (await client.GetAsync(url)).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    private async Task CheckAsync(Endpoint endpoint, Access access, Role role)
    {
        var expected = Expected(access, role);
        var browserPost = endpoint.Method != "GET" && !endpoint.IsApi && access is not (MemberWithoutForm or AdminWithoutForm or StatusPage);
        using var fresh = endpoint.EndsSession ? await _callers.SignInAsync(role) : null;
        var client = fresh ?? _callers.Client(role);
        var token = endpoint.IsApi ? _callers.ApiToken(role) : fresh is null ? _callers.Token(role) : await _callers.TokenAsync(fresh, role);

        if (browserPost)
        {
            using var withoutToken = await SendAsync(client, endpoint, role, token: null);
            Describe(endpoint, role, "without token", withoutToken);
            ((int)withoutToken.StatusCode).ShouldBeLessThan(500, $"{endpoint.Key} as {role} without token");
            if (expected == Outcome.Allowed)
            {
                withoutToken.StatusCode.ShouldBe(HttpStatusCode.BadRequest, $"{endpoint.Key} as {role} without an antiforgery token");
            }
            else if (withoutToken.StatusCode != HttpStatusCode.BadRequest)
            {
                ShouldBe(withoutToken, expected, endpoint, role);
            }
        }

        using var response = await SendAsync(client, endpoint, role, token);
        Describe(endpoint, role, "", response);
        if (access == StatusPage)
        {
            ((int)response.StatusCode).ShouldBe(StatusPageCode(endpoint), $"{endpoint.Key} as {role}");
            return;
        }
        ShouldBe(response, expected, endpoint, role);
    }

    /// <summary>What /error (opened directly: 500) and /status/{code} answer.</summary>
    private static int StatusPageCode(Endpoint endpoint) =>
        endpoint.Pattern == "/error" ? 500 : int.Parse(Samples["code"], System.Globalization.CultureInfo.InvariantCulture);

    private static void ShouldBe(HttpResponseMessage response, Outcome expected, Endpoint endpoint, Role role)
    {
        var status = (int)response.StatusCode;
        var location = response.Headers.Location?.OriginalString ?? "";
        var what = $"{endpoint.Key} as {role}: {status} {location}";
        status.ShouldBeLessThan(500, what);
        switch (expected)
        {
            case Outcome.SignIn when endpoint.IsApi:
                response.StatusCode.ShouldBe(HttpStatusCode.Unauthorized, what);
                break;
            case Outcome.SignIn:
                response.StatusCode.ShouldBe(HttpStatusCode.Redirect, what);
                location.ShouldStartWith("/login?returnUrl=", Case.Sensitive, what);
                break;
            case Outcome.Pending when endpoint.IsApi:
                response.StatusCode.ShouldBe(HttpStatusCode.Unauthorized, what + " (a pending account's token is refused)");
                break;
            case Outcome.Pending:
                response.StatusCode.ShouldBe(HttpStatusCode.Redirect, what);
                location.ShouldBe("/pending", what);
                break;
            case Outcome.Forbidden:
                response.StatusCode.ShouldBe(HttpStatusCode.Forbidden, what);
                break;
            default:
                response.StatusCode.ShouldNotBeOneOf([HttpStatusCode.Unauthorized, HttpStatusCode.Forbidden], what);
                location.ShouldNotStartWith("/login?returnUrl=", Case.Sensitive, what);
                location.ShouldNotStartWith("/pending", Case.Sensitive, what);
                break;
        }
    }

    private void Describe(Endpoint endpoint, Role role, string note, HttpResponseMessage response) =>
        _output.WriteLine($"{endpoint.Key,-55} {role,-9} {note,-14} {(int)response.StatusCode} {response.Headers.Location}");

    private static Outcome Expected(Access access, Role role) => (access, role) switch
    {
        (Anyone or StatusPage, _) => Outcome.Allowed,
        (_, Role.Anonymous) => Outcome.SignIn,
        (SignedIn, _) => Outcome.Allowed,
        (_, Role.Pending) => Outcome.Pending,
        (Admin or AdminWithoutForm or MetricsReader, Role.Member) => Outcome.Forbidden,
        _ => Outcome.Allowed,
    };

    private static async Task<HttpResponseMessage> SendAsync(AppClient client, Endpoint endpoint, Role role, string? token)
    {
        using var request = new HttpRequestMessage(new HttpMethod(endpoint.Method), endpoint.Url);
        if (endpoint.IsApi)
        {
            request.Content = endpoint.Method == "GET" ? null : new StringContent("{}", new MediaTypeHeaderValue("application/json"));
            if (role != Role.Anonymous)
            {
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            }
        }
        else
        {
            request.Content = endpoint.Method == "GET" ? null : new FormUrlEncodedContent([]);
            if (token is not null && endpoint.Method != "GET")
            {
                request.Headers.Add("RequestVerificationToken", token);
            }
        }

        // Event streams never end: the answer is decided once the headers arrive.
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        return await client.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
    }

    /// <summary>Every route of the endpoint data sources (pages excepted) and every handler of every page.</summary>
    private static IEnumerable<Endpoint> Enumerate(MlxManagerFactory app)
    {
        var routes = app.Services.GetServices<EndpointDataSource>().SelectMany(source => source.Endpoints).OfType<RouteEndpoint>().ToList();
        var pages = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var route in routes)
        {
            var pattern = "/" + (route.RoutePattern.RawText ?? "").TrimStart('/');
            if (route.Metadata.GetMetadata<PageActionDescriptor>() is { } page)
            {
                // An Index page has two routes ("/Index" and "/"): keep the shorter.
                if (!pages.TryGetValue(page.ViewEnginePath, out var known) || pattern.Length < known.Length)
                {
                    pages[page.ViewEnginePath] = pattern;
                }
                continue;
            }

            var methods = route.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods;
            foreach (var method in methods is { Count: > 0 } ? methods : ["GET", "POST"])
            {
                yield return new Endpoint(method, pattern, null)
                {
                    TakesKeys = route.Metadata.GetOrderedMetadata<IAuthorizeData>().Any(data => data.Policy is AccountPolicies.Inference or AccountPolicies.Metrics or GatewayHosting.ClientPolicy),
                };
            }
        }

        var models = typeof(WebAppAssembly).Assembly.GetTypes()
            .Where(type => type.IsSubclassOf(typeof(PageModel)) && !type.IsAbstract)
            .ToDictionary(PagePath);
        models.Keys.Order().ShouldBe(pages.Keys.Order(), "every page has a page model named after it");
        foreach (var (path, pattern) in pages)
        {
            var handlers = models[path].GetMethods(BindingFlags.Public | BindingFlags.Instance)
                .Select(method => HandlerPattern().Match(method.Name))
                .Where(match => match.Success)
                .Select(match => (Method: match.Groups[1].Value.ToUpperInvariant(), Handler: match.Groups[2].Value))
                .Append(("GET", "")) // a page answers GET even without OnGet
                .Distinct();
            foreach (var (method, handler) in handlers)
            {
                yield return new Endpoint(method, pattern, handler.Length == 0 ? null : handler);
            }
        }
    }

    /// <summary><c>MlxManager.Web.Pages.Account.LoginModel</c> → <c>/Account/Login</c>.</summary>
    private static string PagePath(Type model) =>
        (model.Namespace!["MlxManager.Web.Pages".Length..].Replace('.', '/') + "/" + model.Name[..^"Model".Length]);

    [GeneratedRegex("^On(Get|Post|Put|Delete|Patch)([A-Za-z]*?)(Async)?$")]
    private static partial Regex HandlerPattern();

    /// <summary>One route or page handler.</summary>
    private sealed record Endpoint(string Method, string Pattern, string? Handler)
    {
        /// <summary>Requires <see cref="AccountPolicies.Inference"/> or <see cref="AccountPolicies.Metrics"/>: a key with that scope is let in.</summary>
        public bool TakesKeys { get; init; }

        public string Key => $"{Method} {Pattern}" + (Handler is null ? "" : "?handler=" + Handler);

        /// <summary>Bearer-authenticated JSON: the management API and the OpenAI-compatible gateway.</summary>
        public bool IsApi => Pattern.StartsWith("/api/", StringComparison.Ordinal) || Pattern.StartsWith("/v1/", StringComparison.Ordinal);

        /// <summary>Signing out ends the shared session of the role, so it runs with a session of its own.</summary>
        public bool EndsSession => Method == "POST" && Pattern == "/logout";

        public string Url
        {
            get
            {
                var parsed = RoutePatternFactory.Parse(Pattern);
                var path = "/" + string.Join('/', parsed.PathSegments.Select(segment => string.Concat(segment.Parts.Select(part => part switch
                {
                    RoutePatternLiteralPart literal => literal.Content,
                    RoutePatternSeparatorPart separator => separator.Content,
                    RoutePatternParameterPart { IsCatchAll: true } => "",
                    RoutePatternParameterPart parameter => Sample(parameter),
                    _ => "",
                })))).TrimEnd('/');
                return (path.Length == 0 ? "/" : path) + (Handler is null ? "" : "?handler=" + Handler);
            }
        }

        private static string Sample(RoutePatternParameterPart parameter) =>
            Samples.GetValueOrDefault(parameter.Name)
            ?? parameter.ParameterPolicies.Select(policy => Samples.GetValueOrDefault(policy.Content ?? "")).FirstOrDefault(sample => sample is not null)
            ?? "sample";
    }

    public enum Role
    {
        Anonymous,
        Pending,
        Member,
        Admin,
    }

    private enum Outcome
    {
        Allowed,
        SignIn,
        Pending,
        Forbidden,
    }

    /// <summary>One app with a signed-in browser session, an htmx antiforgery token and an API token per role.</summary>
    public sealed class Callers : IAsyncLifetime
    {
        private readonly Dictionary<Role, (AppClient Client, string? FormToken, string? ApiToken)> _roles = [];
        private readonly Dictionary<Role, AppUser> _users = [];

        public MlxManagerFactory App { get; } = new();

        /// <summary>Personal keys: an admin's with <c>manage</c> (opens /api), an admin's without, a member's.</summary>
        public List<(string Name, Role Owner, string Secret, bool OpensApi)> Keys { get; } = [];

        public async Task InitializeAsync()
        {
            _users[Role.Admin] = await App.CreateUserAsync("admin@example.com", admin: true);
            _users[Role.Member] = await App.CreateUserAsync("member@example.com");
            _users[Role.Pending] = await App.CreateUserAsync("pending@example.com", status: UserStatus.Pending);
            foreach (var role in Enum.GetValues<Role>())
            {
                var client = await SignInAsync(role);
                _roles[role] = (client, await TokenAsync(client, role), role == Role.Anonymous ? null : App.Services.GetRequiredService<ApiTokens>().Issue(_users[role]).Token);
            }
            Keys.Add(("admin manage key", Role.Admin, await CreateKeyAsync(Role.Admin, ApiKeyScopes.Manage | ApiKeyScopes.Inference | ApiKeyScopes.Metrics), true));
            Keys.Add(("admin inference key", Role.Admin, await CreateKeyAsync(Role.Admin, ApiKeyScopes.Inference | ApiKeyScopes.Metrics), false));
            Keys.Add(("member key", Role.Member, await CreateKeyAsync(Role.Member, ApiKeyScopes.Inference | ApiKeyScopes.Metrics), false));
        }

        private Task<string> CreateKeyAsync(Role role, ApiKeyScopes scopes) =>
            App.WithScopeAsync(async services => (await services.GetRequiredService<PersonalApiKeys>()
                .CreateAsync(new KeyViewer(_users[role].Id, role == Role.Admin), new NewApiKey($"{role} key", null, scopes))).Secret!);

        public AppClient Client(Role role) => _roles[role].Client;

        /// <summary>The antiforgery token of the role's session, as htmx sends it.</summary>
        public string? Token(Role role) => _roles[role].FormToken;

        /// <summary>A bearer token issued to the role's account (a pending account's is refused when used).</summary>
        public string? ApiToken(Role role) => _roles[role].ApiToken;

        public async Task<AppClient> SignInAsync(Role role)
        {
            var client = App.CreateAppClient();
            if (role != Role.Anonymous)
            {
                await client.SignInAsync(_users[role].Email!);
            }
            return client;
        }

        public Task<string> TokenAsync(AppClient client, Role role) =>
            client.HtmxTokenAsync(role switch { Role.Anonymous => "/login", Role.Pending => "/pending", _ => "/" });

        public async Task DisposeAsync()
        {
            foreach (var (client, _, _) in _roles.Values)
            {
                client.Dispose();
            }
            await App.DisposeAsync();
        }
    }
}
