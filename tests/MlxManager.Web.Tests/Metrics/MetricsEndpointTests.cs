using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using MlxManager.Core.Accounts;
using MlxManager.Core.Accounts.Keys;
using MlxManager.ModelFixtures;
using MlxManager.Web.Tests.Gateway;
using MlxManager.Web.Tests.Infrastructure;
using MlxManager.Web.Tests.Servers.Infrastructure;

namespace MlxManager.Web.Tests.Metrics;

/// <summary>
/// <c>/metrics</c> on the real app with real engines (EngineEmulator processes started on demand through the gateway),
/// scraped over HTTP as Prometheus would — with a personal key — and read with Prometheus' own text parser.
/// </summary>
public sealed class MetricsEndpointTests(GatewayHost host) : IClassFixture<GatewayHost>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);

    [LinuxFact(PrometheusText.Python, PrometheusText.Parser)]
    public async Task AServerStartedThroughTheGateway_IsScrapedWithItsStateMemoryAndCpu()
    {
        await SeedProfiles.AddAsync(host.App, "Metrics Llama", FixtureCatalog.LlamaTools.RepoId);
        var (client, user) = await host.NewAccountAsync();
        using var _ = client;
        using var scraper = host.Anonymous();
        scraper.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", await KeyAsync(user, ApiKeyScopes.Metrics));

        (await client.PostAsJsonAsync("/v1/chat/completions", GatewayHost.Chat("Metrics Llama", "Hi [[tokens:3]]"))).EnsureSuccessStatusCode();

        var samples = await Eventually.ValueAsync(
            () => ScrapeAsync(scraper),
            s => s.Any(x => x.Name == "mlxmanager_server_memory_bytes" && x.Has("profile", "Metrics Llama") && x.Value > 0)
                && s.Any(x => x.Name == "mlxmanager_server_cpu_percent" && x.Has("profile", "Metrics Llama")),
            Patience, "the sampler measures the started server");
        var states = samples.Where(s => s.Name == "mlxmanager_server_state" && s.Has("profile", "Metrics Llama")).ToList();
        states.Single(s => s.Has("state", "ready")).Value.ShouldBe(1);
        states.Where(s => !s.Has("state", "ready")).ShouldAllBe(s => s.Value == 0);
        states.Count.ShouldBe(6, "one series per state");
        states.ShouldAllBe(s => s.Has("engine", "mlx_lm.server"));
        samples.Single(s => s.Name == "mlxmanager_server_in_flight_requests" && s.Has("profile", "Metrics Llama")).Value.ShouldBe(0);
        samples.Single(s => s.Name == "mlxmanager_system_memory_total_bytes").Value.ShouldBeGreaterThan(0);
        samples.Where(s => s.Family == "mlxmanager_server_memory_bytes").ShouldAllBe(s => s.Type == "gauge");
    }

    [Fact]
    public async Task OnlyAdminsAndKeysWithTheMetricsScope_MayScrape()
    {
        var (member, user) = await host.NewAccountAsync();
        using var _ = member;
        var admin = await host.App.CreateUserAsync("metrics-admin@example.com", admin: true);
        using var adminBrowser = Browser();
        await adminBrowser.SignInAsync(admin.Email!);
        using var memberBrowser = Browser();
        await memberBrowser.SignInAsync(user.Email!);
        using var browser = Browser();
        var anonymous = browser.Http;

        (await Get(anonymous, null)).StatusCode.ShouldBe(HttpStatusCode.Redirect, "anonymous: sign in first");
        (await memberBrowser.GetAsync("/metrics")).StatusCode.ShouldBe(HttpStatusCode.Forbidden, "a member's session");
        (await member.GetAsync("/metrics")).StatusCode.ShouldBe(HttpStatusCode.Forbidden, "a member's API token");
        (await Get(anonymous, await KeyAsync(user, ApiKeyScopes.Inference))).StatusCode.ShouldBe(HttpStatusCode.Forbidden, "a key without the metrics scope");
        (await Get(anonymous, "mlxm_" + new string('x', 43))).StatusCode.ShouldBe(HttpStatusCode.Unauthorized, "an unknown key");

        var byAdmin = await adminBrowser.GetAsync("/metrics");
        byAdmin.StatusCode.ShouldBe(HttpStatusCode.OK, "an admin's session");
        byAdmin.Content.Headers.ContentType!.MediaType.ShouldBe("text/plain");
        var byKey = await Get(anonymous, await KeyAsync(user, ApiKeyScopes.Metrics));
        byKey.StatusCode.ShouldBe(HttpStatusCode.OK, "a member's key with the metrics scope");
        (await byKey.Content.ReadAsStringAsync()).ShouldContain("# TYPE mlxmanager_requests_total counter");
    }

    /// <summary>A browser-like client of the Kestrel host: keeps cookies, follows no redirect.</summary>
    private AppClient Browser() =>
        new(new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = host.BaseUrl });

    private async Task<string> KeyAsync(AppUser owner, ApiKeyScopes scopes) =>
        await host.App.WithScopeAsync(async services => (await services.GetRequiredService<PersonalApiKeys>()
            .CreateAsync(new KeyViewer(owner.Id, IsAdmin: false), new NewApiKey($"scraper {scopes}", null, scopes))).Secret!);

    private static async Task<HttpResponseMessage> Get(HttpClient client, string? key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/metrics");
        if (key is not null)
        {
            request.Headers.Add("x-api-key", key);
        }

        return await client.SendAsync(request);
    }

    private static async Task<IReadOnlyList<PrometheusSample>> ScrapeAsync(HttpClient scraper)
    {
        var response = await scraper.GetAsync("/metrics");
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        return await PrometheusText.ParseAsync(await response.Content.ReadAsStringAsync());
    }
}
