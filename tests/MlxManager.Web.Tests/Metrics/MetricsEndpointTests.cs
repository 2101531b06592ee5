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

    [LinuxFact(PrometheusText.Python, PrometheusText.Parser)]
    public async Task GatewayRequests_AreCountedPerProfile_WithTokensByKind_AndTimeToFirstTokenAndQueueWaitHistograms()
    {
        await SeedProfiles.AddAsync(host.App, "Counted Llama", FixtureCatalog.LlamaTools.RepoId);
        var (client, user) = await host.NewAccountAsync();
        using var _ = client;
        using var scraper = host.Anonymous();
        scraper.DefaultRequestHeaders.Add("x-api-key", await KeyAsync(user, ApiKeyScopes.Metrics));
        var streamed = GatewayHost.Chat("Counted Llama", "Hi [[tokens:5]]", stream: true);
        streamed["stream_options"] = new System.Text.Json.Nodes.JsonObject { ["include_usage"] = true };

        (await client.PostAsJsonAsync("/v1/chat/completions", GatewayHost.Chat("Counted Llama", "Hi [[tokens:3]]"))).EnsureSuccessStatusCode();
        var stream = await client.PostAsJsonAsync("/v1/chat/completions", streamed);
        var answer = await stream.Content.ReadAsStringAsync();
        (await client.PostAsJsonAsync("/v1/chat/completions", GatewayHost.Chat("No such model", "Hi"))).StatusCode.ShouldBe(HttpStatusCode.NotFound);

        var samples = await ScrapeAsync(scraper);
        bool Counted(PrometheusSample s) => s.Has("source", "gateway") && s.Has("profile", "Counted Llama");
        samples.Single(s => s.Name == "mlxmanager_requests_total" && Counted(s) && s.Has("outcome", "ok")).Value.ShouldBe(2);
        samples.Where(s => s.Family == "mlxmanager_requests" && Counted(s)).ShouldAllBe(s => s.Type == "counter");
        var completion = samples.Single(s => s.Name == "mlxmanager_tokens_total" && Counted(s) && s.Has("kind", "completion")).Value;
        completion.ShouldBeGreaterThanOrEqualTo(8, answer);
        samples.Single(s => s.Name == "mlxmanager_tokens_total" && Counted(s) && s.Has("kind", "prompt")).Value.ShouldBeGreaterThan(0);
        samples.Single(s => s.Name == "mlxmanager_time_to_first_token_seconds_count" && Counted(s)).Value.ShouldBeGreaterThanOrEqualTo(1, "the streamed answer's first token");
        samples.Single(s => s.Name == "mlxmanager_time_to_first_token_seconds_bucket" && Counted(s) && s.Has("le", "+Inf")).Value
            .ShouldBe(samples.Single(s => s.Name == "mlxmanager_time_to_first_token_seconds_count" && Counted(s)).Value);
        samples.Single(s => s.Name == "mlxmanager_queue_wait_seconds_count" && Counted(s)).Value.ShouldBe(2);
        samples.Single(s => s.Name == "mlxmanager_request_duration_seconds_sum" && Counted(s)).Value.ShouldBeGreaterThan(0);
        samples.ShouldNotContain(s => s.Labels.Values.Any(v => v == "No such model" || v == user.Id || v == user.Email),
            "neither a made-up model name nor a user becomes a label");
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
