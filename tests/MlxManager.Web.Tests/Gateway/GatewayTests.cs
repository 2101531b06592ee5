using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using MlxManager.Core.Accounts;
using MlxManager.Core.Data;
using MlxManager.Core.Servers;
using MlxManager.ModelFixtures;
using MlxManager.Web.Tests.Infrastructure;
using MlxManager.Web.Tests.Servers.Infrastructure;

namespace MlxManager.Web.Tests.Gateway;

public sealed class GatewayTests(GatewayHost host) : IClassFixture<GatewayHost>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task AModel_IsReachedByProfileName_GatewayName_AndRepoId_AndTheEngineGetsItsOwnModelName()
    {
        var profile = await SeedProfiles.AddAsync(host.App, "Routed Llama", FixtureCatalog.LlamaTools.RepoId, configure: p => p.GatewayNames = "llama-gw, tools");
        using var client = await host.NewClientAsync();

        foreach (var name in new[] { "Routed Llama", "TOOLS", FixtureCatalog.LlamaTools.RepoId })
        {
            var response = await client.PostAsJsonAsync("/v1/chat/completions", GatewayHost.Chat(name, "Hi [[echo]]"));

            (await EchoedModelAsync(response)).ShouldBe(host.Supervisor.Find(profile.Id)!.Model.Reference, $"asked as {name}: the engine gets the model it serves");
        }
    }

    [Fact]
    public async Task AnMlxOpenAiServerProfile_GetsTheModelNameItServes()
    {
        var profile = await SeedProfiles.AddAsync(host.App, "Served by openai-server", FixtureCatalog.LlamaTools.RepoId, engine: "mlx-openai-server");
        using var client = await host.NewClientAsync();

        var response = await client.PostAsJsonAsync("/v1/chat/completions", GatewayHost.Chat("Served by openai-server", "Hi [[echo]]"));

        (await EchoedModelAsync(response)).ShouldBe(host.Supervisor.Find(profile.Id)!.Model.Reference);
    }

    [Fact]
    public async Task UsageIsPassedOn_StreamOptionsAreHonoured_AndLegacyCompletionsWork()
    {
        await SeedProfiles.AddAsync(host.App, "Usage Llama", FixtureCatalog.LlamaTools.RepoId);
        using var client = await host.NewClientAsync();
        var body = GatewayHost.Chat("Usage Llama", "Hi [[tokens:3]]", stream: true);
        body["stream_options"] = new JsonObject { ["include_usage"] = true };

        var streamed = await (await SendStreamingAsync(client, body, CancellationToken.None)).Content.ReadAsStringAsync();
        var plain = await client.PostAsJsonAsync("/v1/chat/completions", GatewayHost.Chat("Usage Llama", "Hi [[tokens:3]]"));
        var legacy = await client.PostAsJsonAsync("/v1/completions", new JsonObject { ["model"] = "Usage Llama", ["prompt"] = "Once upon a time", ["max_tokens"] = 8 });

        var usageChunk = streamed.Split('\n').Where(l => l.StartsWith("data: {", StringComparison.Ordinal))
            .Select(l => JsonNode.Parse(l["data: ".Length..])!).Last();
        ((int?)usageChunk["usage"]?["completion_tokens"]).ShouldNotBeNull(streamed);
        ((int?)(await plain.Content.ReadFromJsonAsync<JsonObject>())!["usage"]?["prompt_tokens"]).ShouldNotBeNull();
        legacy.StatusCode.ShouldBe(HttpStatusCode.OK, await legacy.Content.ReadAsStringAsync());
        ((string?)(await legacy.Content.ReadFromJsonAsync<JsonObject>())!["choices"]![0]!["text"]).ShouldNotBeNullOrEmpty();
    }

    [Fact]
    public async Task ARepoIdServedByTwoProfiles_GoesToTheOneMarkedDefault()
    {
        await SeedProfiles.AddAsync(host.App, "Phi plain", FixtureCatalog.Phi8Bit.RepoId);
        await SeedProfiles.AddAsync(host.App, "Phi default", FixtureCatalog.Phi8Bit.RepoId, configure: p => p.DefaultForModel = true);
        using var client = await host.NewClientAsync();

        var model = await client.GetFromJsonAsync<JsonObject>("/v1/models/" + FixtureCatalog.Phi8Bit.RepoId);

        ((string?)model!["id"]).ShouldBe(FixtureCatalog.Phi8Bit.RepoId);
        ((string?)model["profile"]).ShouldBe("Phi default");
        ((string?)model["status"]).ShouldBe("unloaded");
    }

    [Fact]
    public async Task ModelsList_HasEveryNameOfReachableProfiles_Sorted_WithStatusAndCapabilities()
    {
        await SeedProfiles.AddAsync(host.App, "Listed Qwen", FixtureCatalog.QwenThinking.RepoId, configure: p => p.GatewayNames = "aaa-qwen");
        await SeedProfiles.AddAsync(host.App, "Not on demand", FixtureCatalog.QwenThinking.RepoId, configure: p => p.StartOnDemand = false);
        using var client = await host.NewClientAsync();

        var list = await client.GetFromJsonAsync<JsonObject>("/v1/models");

        var data = list!["data"]!.AsArray().Select(m => m!.AsObject()).ToList();
        var ids = data.Select(m => (string)m["id"]!).ToList();
        ids.ShouldBe(ids.Order(StringComparer.Ordinal).ToList());
        ids.ShouldContain("aaa-qwen");
        ids.ShouldContain("Listed Qwen");
        ids.ShouldNotContain("Not on demand", "a stopped profile that does not start on demand cannot be reached");
        var qwen = data.Single(m => (string)m["id"]! == "aaa-qwen");
        ((string?)qwen["object"]).ShouldBe("model");
        ((string?)qwen["owned_by"]).ShouldBe("mlx-manager");
        ((string?)qwen["status"]).ShouldBe("unloaded");
        ((bool)qwen["capabilities"]!["thinking"]!).ShouldBeTrue();
        ((int?)qwen["context_length"]).ShouldBe(40960);
    }

    [Fact]
    public async Task AnUnknownModel_Is404_InOpenAisShape_NamingIt()
    {
        using var client = await host.NewClientAsync();

        var response = await client.PostAsJsonAsync("/v1/chat/completions", GatewayHost.Chat("no-such-model", "Hi"));

        var error = await ErrorAsync(response, HttpStatusCode.NotFound);
        ((string?)error["code"]).ShouldBe("model_not_found");
        ((string?)error["param"]).ShouldBe("model");
        ((string)error["message"]!).ShouldContain("\"no-such-model\"");
        await ErrorAsync(await client.GetAsync("/v1/models/no-such-model"), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task WithoutAValidToken_Or_WithOnlyTheBrowserCookie_Is401InvalidApiKey()
    {
        using var anonymous = host.Anonymous();
        using var forged = host.Anonymous();
        forged.DefaultRequestHeaders.Authorization = new("Bearer", "not-a-token");
        using var browser = new AppClient(new HttpClient(new SocketsHttpHandler { UseCookies = true, CookieContainer = new CookieContainer(), AllowAutoRedirect = false })
        {
            BaseAddress = host.BaseUrl,
        });
        await host.App.CreateUserAsync("gateway-browser@example.com");
        await browser.SignInAsync("gateway-browser@example.com");
        (await browser.GetAsync("/profiles")).StatusCode.ShouldBe(HttpStatusCode.OK, "the cookie works for pages");

        foreach (var http in new[] { anonymous, forged, browser.Http })
        {
            var error = await ErrorAsync(await http.GetAsync("/v1/models"), HttpStatusCode.Unauthorized);
            ((string?)error["code"]).ShouldBe("invalid_api_key");
            await ErrorAsync(await http.PostAsJsonAsync("/v1/chat/completions", GatewayHost.Chat("x", "Hi")), HttpStatusCode.Unauthorized);
        }
    }

    [Fact]
    public async Task ADisabledAccountsToken_IsRefused()
    {
        var admin = await host.App.CreateUserAsync("gateway-admin@example.com", admin: true);
        var (client, user) = await host.NewAccountAsync();
        (await client.GetAsync("/v1/models")).StatusCode.ShouldBe(HttpStatusCode.OK);

        var change = await host.App.WithScopeAsync(services => services.GetRequiredService<UserAdministration>().DisableAsync(admin.Id, user.Id));

        change.Succeeded.ShouldBeTrue(change.Error);
        var error = await ErrorAsync(await client.GetAsync("/v1/models"), HttpStatusCode.Unauthorized);
        ((string?)error["code"]).ShouldBe("invalid_api_key");
        client.Dispose();
    }

    [Fact]
    public async Task FiveConcurrentRequests_ForAStoppedProfile_StartOneEngine_AndAllAreAnswered()
    {
        var profile = await SeedProfiles.AddAsync(host.App, "Cold Qwen", FixtureCatalog.QwenThinking.RepoId);
        using var client = await host.NewClientAsync();

        var responses = await Task.WhenAll(Enumerable.Range(1, 5).Select(i =>
            client.PostAsJsonAsync("/v1/chat/completions", GatewayHost.Chat("Cold Qwen", $"Question {i} [[tokens:4]]"))));

        foreach (var response in responses)
        {
            response.StatusCode.ShouldBe(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
            var answer = await response.Content.ReadFromJsonAsync<JsonObject>();
            ((string?)answer!["choices"]![0]!["message"]!["content"]).ShouldNotBeNullOrWhiteSpace();
        }

        var runs = await host.App.WithScopeAsync(services => services.GetRequiredService<AppDbContext>().ServerRuns.CountAsync(r => r.ProfileId == profile.Id));
        runs.ShouldBe(1, "one start shared by all five requests");
        host.Supervisor.Find(profile.Id)!.State.ShouldBe(ServerState.Ready);
    }

    [Fact]
    public async Task AFailingStart_AnswersEveryWaiter_WithTheEnginesReason()
    {
        await SeedProfiles.AddAsync(host.App, "Broken model", FixtureCatalog.Unsupported.RepoId);
        using var client = await host.NewClientAsync();

        var responses = await Task.WhenAll(Enumerable.Range(1, 3).Select(_ =>
            client.PostAsJsonAsync("/v1/chat/completions", GatewayHost.Chat("Broken model", "Hi"))));

        foreach (var response in responses)
        {
            var error = await ErrorAsync(response, HttpStatusCode.BadGateway);
            ((string?)error["code"]).ShouldBe("model_load_failed");
            ((string)error["message"]!).ShouldContain("Model type frobnicator not supported.");
        }
    }

    [Fact]
    public async Task AnEngineThatDiesWhileAnswering_Is502EngineFailed()
    {
        await SeedProfiles.AddAsync(host.App, "Crashing Llama", FixtureCatalog.LlamaTools.RepoId);
        using var client = await host.NewClientAsync();

        var response = await client.PostAsJsonAsync("/v1/chat/completions", GatewayHost.Chat("Crashing Llama", "Hi [[crash]]"));

        ((string?)(await ErrorAsync(response, HttpStatusCode.BadGateway))["code"]).ShouldBe("engine_failed");
    }

    [Fact]
    public async Task AProfileThatDoesNotStartOnDemand_Is409ModelNotRunning()
    {
        await SeedProfiles.AddAsync(host.App, "Manual Llama", FixtureCatalog.LlamaTools.RepoId, configure: p => p.StartOnDemand = false);
        using var client = await host.NewClientAsync();

        var error = await ErrorAsync(await client.PostAsJsonAsync("/v1/chat/completions", GatewayHost.Chat("Manual Llama", "Hi")), HttpStatusCode.Conflict);

        ((string?)error["code"]).ShouldBe("model_not_running");
    }

    [Fact]
    public async Task AStreamingRequest_WaitingForALoad_GetsLoadingComments_ThenTheStreamWithReasoningContent()
    {
        await SeedProfiles.AddAsync(host.App, "Slow start Qwen", FixtureCatalog.QwenThinking.RepoId,
            configure: p => p.EnvironmentVariables = EngineWorld.FastEngine + "\nEMULATOR_IMPORT_SECONDS=3");
        using var client = await host.NewClientAsync();

        var response = await SendStreamingAsync(client, GatewayHost.Chat("Slow start Qwen", "Think first [[tokens:5]]", stream: true), CancellationToken.None);

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("text/event-stream");
        response.Headers.GetValues("X-Accel-Buffering").ShouldBe(["no"]);
        var text = await response.Content.ReadAsStringAsync();
        text.ShouldContain(": loading ");
        text.ShouldContain("\"reasoning_content\"", Case.Sensitive, "mlx_lm's delta.reasoning is also sent as reasoning_content");
        text.TrimEnd().ShouldEndWith("data: [DONE]");
    }

    [Fact]
    public async Task TheFirstChunk_IsForwardedBeforeTheEngineFinishes_AndLeavingCancelsUpstream_FreeingTheSlot()
    {
        var profile = await SeedProfiles.AddAsync(host.App, "Hanging Llama", FixtureCatalog.LlamaTools.RepoId, configure: p => p.MaxConcurrentRequests = 1);
        using var client = await host.NewClientAsync();
        using var leave = new CancellationTokenSource();

        // [[hang]]: three tokens, then the engine never sends another byte — a buffering proxy would forward nothing.
        var response = await SendStreamingAsync(client, GatewayHost.Chat("Hanging Llama", "Hi [[hang]]", stream: true), leave.Token);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(leave.Token));
        string? line;
        do
        {
            line = await reader.ReadLineAsync(leave.Token).AsTask().WaitAsync(Patience);
        }
        while (line is not null && !HasContent(line));

        line.ShouldNotBeNull("a content chunk arrived while the engine was still generating");
        host.Lanes.InFlight(profile.Id).ShouldBe(1);

        leave.Cancel();
        response.Dispose();

        await Eventually.WaitUntilAsync(() => host.Lanes.InFlight(profile.Id) == 0, Patience, "the request ended when its client left");
        var next = await client.PostAsJsonAsync("/v1/chat/completions", GatewayHost.Chat("Hanging Llama", "Hi [[tokens:3]]"));
        next.StatusCode.ShouldBe(HttpStatusCode.OK, "the only slot was freed by cancelling the hung upstream request");
    }

    [Fact]
    public async Task BeyondTheQueue_Is429WithRetryAfter_AndQueuedClientsThatLeave_LeaveTheQueue()
    {
        var profile = await SeedProfiles.AddAsync(host.App, "Busy Llama", FixtureCatalog.LlamaTools.RepoId, configure: p => p.MaxConcurrentRequests = 1);
        using var client = await host.NewClientAsync();
        using var leave = new CancellationTokenSource();
        var holder = await SendStreamingAsync(client, GatewayHost.Chat("Busy Llama", "Hi [[hang]]", stream: true), leave.Token);
        var queued = Enumerable.Range(1, 2)
            .Select(_ => client.PostAsJsonAsync("/v1/chat/completions", GatewayHost.Chat("Busy Llama", "Hi [[tokens:2]]"), leave.Token))
            .ToList();
        await Eventually.WaitUntilAsync(() => host.Lanes.InFlight(profile.Id) == 3, Patience, "one running, two waiting (MaxQueue is 2)");

        var refused = await client.PostAsJsonAsync("/v1/chat/completions", GatewayHost.Chat("Busy Llama", "Hi"));

        var error = await ErrorAsync(refused, HttpStatusCode.TooManyRequests);
        ((string?)error["code"]).ShouldBe("queue_full");
        refused.Headers.RetryAfter.ShouldNotBeNull();
        leave.Cancel();
        holder.Dispose();
        foreach (var waiting in queued)
        {
            await Should.ThrowAsync<OperationCanceledException>(waiting);
        }

        await Eventually.WaitUntilAsync(() => host.Lanes.InFlight(profile.Id) == 0, Patience, "the waiting clients left the queue");
    }

    /// <summary>The <c>model</c> the engine received, from an <c>[[echo]]</c> answer.</summary>
    private static async Task<string?> EchoedModelAsync(HttpResponseMessage response)
    {
        response.StatusCode.ShouldBe(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        var answer = await response.Content.ReadFromJsonAsync<JsonObject>();
        return (string?)JsonNode.Parse((string)answer!["choices"]![0]!["message"]!["content"]!)!["request_model"];
    }

    /// <summary>An SSE line carrying a chunk of the answer's text.</summary>
    private static bool HasContent(string line) =>
        line.StartsWith("data: {", StringComparison.Ordinal)
        && JsonNode.Parse(line["data: ".Length..])?["choices"]?[0]?["delta"]?["content"] is JsonValue content
        && content.TryGetValue<string>(out var text) && text.Length > 0;

    private static async Task<HttpResponseMessage> SendStreamingAsync(HttpClient client, JsonObject body, CancellationToken cancellationToken)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = JsonContent.Create(body) };
        return await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
    }

    internal static async Task<JsonObject> ErrorAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        var text = await response.Content.ReadAsStringAsync();
        response.StatusCode.ShouldBe(status, text);
        var error = JsonNode.Parse(text)!["error"]!.AsObject();
        error.Select(p => p.Key).Order().ShouldBe(["code", "message", "param", "type"]);
        ((string?)error["message"]).ShouldNotBeNullOrWhiteSpace();
        return error;
    }
}

public sealed class GatewayIdleTests(ShortIdleGatewayHost host) : IClassFixture<ShortIdleGatewayHost>
{
    [Fact]
    public async Task AServerStartedOnDemand_IsUnloadedAfterItsIdleTime_WithTheReasonRecorded()
    {
        var profile = await SeedProfiles.AddAsync(host.App, "Idle Llama", FixtureCatalog.LlamaTools.RepoId);
        using var client = await host.NewClientAsync();

        var response = await client.PostAsJsonAsync("/v1/chat/completions", GatewayHost.Chat("Idle Llama", "Hi [[tokens:2]]"));

        response.StatusCode.ShouldBe(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        await Eventually.WaitUntilAsync(() => host.Supervisor.Find(profile.Id) is { State: ServerState.Stopped }, TimeSpan.FromSeconds(60), "unloaded when idle");
        host.Supervisor.Find(profile.Id)!.Detail.ShouldStartWith("Unloaded after 2");
    }
}
