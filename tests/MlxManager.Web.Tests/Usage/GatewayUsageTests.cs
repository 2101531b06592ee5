using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using MlxManager.Core.Accounts.Keys;
using MlxManager.Core.Data;
using MlxManager.Core.Gateway;
using MlxManager.Core.Usage;
using MlxManager.ModelFixtures;
using MlxManager.Web.Tests.Gateway;
using MlxManager.Web.Tests.Servers.Infrastructure;

namespace MlxManager.Web.Tests.Usage;

/// <summary>A gateway host of its own, so quotas and rows of these tests meet no other test's.</summary>
public sealed class UsageGatewayHost : GatewayHost;

/// <summary>Ledger rows, quotas and priorities through real HTTP to the gateway and emulated engines.</summary>
public sealed class GatewayUsageTests(UsageGatewayHost host) : IClassFixture<UsageGatewayHost>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task AStreamedRequest_IsOneRow_WithTheEnginesTokens_TimeToFirstToken_AndTheStart_AndTheUsageChunkIsNotForwarded()
    {
        var profile = await SeedProfiles.AddAsync(host.App, "Ledger Llama", FixtureCatalog.LlamaTools.RepoId);
        var (client, user) = await host.NewAccountAsync();

        var first = await ReadStreamAsync(client, GatewayHost.Chat("Ledger Llama", "Hi [[tokens:5]]", stream: true));
        var second = await ReadStreamAsync(client, GatewayHost.Chat("Ledger Llama", "Again [[tokens:4]]", stream: true));

        foreach (var text in new[] { first, second })
        {
            text.ShouldNotContain("\"usage\"", Case.Sensitive, "the client did not ask for usage; the gateway did, for the ledger");
            text.TrimEnd().ShouldEndWith("data: [DONE]");
        }

        var rows = await RowsAsync(user.Id, 2);
        rows.ShouldAllBe(row => row.Source == UsageSource.Gateway && row.Outcome == UsageOutcome.Ok && row.ApiKeyId == null);
        rows.ShouldAllBe(row => row.ProfileId == profile.Id && row.ProfileName == "Ledger Llama" && row.Model == host.Supervisor.Find(profile.Id)!.Model.Reference);
        rows.ShouldAllBe(row => !row.TokensEstimated && row.PromptTokens > 0 && row.TimeToFirstTokenMs != null && row.DurationMs >= row.TimeToFirstTokenMs);
        rows[0].CompletionTokens.ShouldBe(6, "5 words and the end-of-sequence token, as the engine counts them");
        rows[1].CompletionTokens.ShouldBe(5);
        rows[0].StartedServer.ShouldBeTrue("the first request started the stopped profile on demand");
        rows[1].StartedServer.ShouldBeFalse();
        client.Dispose();
    }

    [Fact]
    public async Task AClientThatAsksForUsage_StillGetsIt_AndANonStreamedRequest_IsARowWithoutTimeToFirstToken()
    {
        await SeedProfiles.AddAsync(host.App, "Ledger Phi", FixtureCatalog.Phi8Bit.RepoId);
        var (client, user) = await host.NewAccountAsync();
        var asked = GatewayHost.Chat("Ledger Phi", "Hi [[tokens:3]]", stream: true);
        asked["stream_options"] = new JsonObject { ["include_usage"] = true };

        var streamed = await ReadStreamAsync(client, asked);
        var plain = await client.PostAsJsonAsync("/v1/chat/completions", GatewayHost.Chat("Ledger Phi", "Hi [[tokens:7]]"));

        streamed.ShouldContain("\"usage\"");
        plain.StatusCode.ShouldBe(HttpStatusCode.OK);
        var usage = (await plain.Content.ReadFromJsonAsync<JsonObject>())!["usage"]!;
        var rows = await RowsAsync(user.Id, 2);
        var row = rows.Single(r => r.TimeToFirstTokenMs is null);
        row.Outcome.ShouldBe(UsageOutcome.Ok);
        row.PromptTokens.ShouldBe((int)usage["prompt_tokens"]!);
        row.CompletionTokens.ShouldBe((int)usage["completion_tokens"]!);
        row.TokensEstimated.ShouldBeFalse();
        client.Dispose();
    }

    [Fact]
    public async Task AClientThatLeavesMidStream_IsACancelledRow_WithTheTokensCounted()
    {
        await SeedProfiles.AddAsync(host.App, "Ledger Hanging", FixtureCatalog.LlamaTools.RepoId);
        var (client, user) = await host.NewAccountAsync();
        using var leave = new CancellationTokenSource();

        var response = await OpenStreamAsync(client, GatewayHost.Chat("Ledger Hanging", "Hi [[hang]]", stream: true), leave.Token);
        await ReadUntilContentAsync(response, leave.Token);
        leave.Cancel();
        response.Dispose();

        var row = (await RowsAsync(user.Id, 1)).Single();
        row.Outcome.ShouldBe(UsageOutcome.Cancelled);
        row.TokensEstimated.ShouldBeTrue("the engine never sent its usage");
        row.CompletionTokens.ShouldBeGreaterThan(0);
        row.PromptTokens.ShouldBeGreaterThan(0);
        row.TimeToFirstTokenMs.ShouldNotBeNull();
        client.Dispose();
    }

    [Fact]
    public async Task AnUnknownModel_IsAnErrorRow()
    {
        var (client, user) = await host.NewAccountAsync();

        (await client.PostAsJsonAsync("/v1/chat/completions", GatewayHost.Chat("no-such-ledger-model", "Hi"))).StatusCode.ShouldBe(HttpStatusCode.NotFound);

        var row = (await RowsAsync(user.Id, 1)).Single();
        row.Outcome.ShouldBe(UsageOutcome.Error);
        row.Model.ShouldBe("no-such-ledger-model");
        row.ProfileId.ShouldBeNull();
        row.Error.ShouldNotBeNull().ShouldContain("does not exist");
        client.Dispose();
    }

    [Fact]
    public async Task OverTheDailyTokens_Is429InsufficientQuota_WithRetryAfterUntilMidnightUtc_AndARefusedRow()
    {
        await SeedProfiles.AddAsync(host.App, "Quota Llama", FixtureCatalog.LlamaTools.RepoId);
        var (client, user) = await host.NewAccountAsync();
        await Quotas.SaveUserAsync(user.Id, tokensPerDay: 10, concurrentRequests: null, CancellationToken.None);

        var allowed = await client.PostAsJsonAsync("/v1/chat/completions", GatewayHost.Chat("Quota Llama", "Hi [[tokens:20]]"));
        allowed.StatusCode.ShouldBe(HttpStatusCode.OK, "nothing used yet: the request may run, however large");
        await Eventually.WaitUntilAsync(() => Quotas.TokensToday(user.Id) >= 10, Patience, "the answer's tokens count toward today");
        var refused = await client.PostAsJsonAsync("/v1/chat/completions", GatewayHost.Chat("Quota Llama", "Again"));

        var error = await GatewayTests.ErrorAsync(refused, HttpStatusCode.TooManyRequests);
        ((string?)error["code"]).ShouldBe("insufficient_quota");
        ((string)error["message"]!).ShouldContain("of your 10 tokens for today");
        ((string)error["message"]!).ShouldContain("resets at 00:00 UTC");
        var now = DateTime.UtcNow;
        var retryAfter = refused.Headers.RetryAfter!.Delta!.Value;
        retryAfter.ShouldBeGreaterThan(TimeSpan.Zero);
        retryAfter.ShouldBeLessThanOrEqualTo(now.Date.AddDays(1) - now + TimeSpan.FromSeconds(1));
        var rows = await RowsAsync(user.Id, 2);
        rows[1].Outcome.ShouldBe(UsageOutcome.RefusedByQuota);
        rows[1].Error.ShouldNotBeNull().ShouldContain("10 tokens");
        rows[1].TotalTokens.ShouldBe(0);
        client.Dispose();
    }

    [Fact]
    public async Task BeyondTheConcurrentRequests_Is429_AndARefusedRow()
    {
        await SeedProfiles.AddAsync(host.App, "Concurrent Llama", FixtureCatalog.LlamaTools.RepoId);
        var (client, user) = await host.NewAccountAsync();
        await Quotas.SaveUserAsync(user.Id, tokensPerDay: null, concurrentRequests: 1, CancellationToken.None);
        using var leave = new CancellationTokenSource();
        var holder = await OpenStreamAsync(client, GatewayHost.Chat("Concurrent Llama", "Hi [[hang]]", stream: true), leave.Token);
        await ReadUntilContentAsync(holder, leave.Token);

        var refused = await client.PostAsJsonAsync("/v1/chat/completions", GatewayHost.Chat("Concurrent Llama", "Hi [[tokens:2]]"));

        var error = await GatewayTests.ErrorAsync(refused, HttpStatusCode.TooManyRequests);
        ((string?)error["code"]).ShouldBe("concurrency_limit_exceeded");
        refused.Headers.RetryAfter!.Delta.ShouldBe(TimeSpan.FromSeconds(1));
        leave.Cancel();
        holder.Dispose();
        var rows = await RowsAsync(user.Id, 2);
        rows.Select(r => r.Outcome).ShouldBe([UsageOutcome.RefusedByQuota, UsageOutcome.Cancelled], ignoreOrder: true);
        var next = await client.PostAsJsonAsync("/v1/chat/completions", GatewayHost.Chat("Concurrent Llama", "Hi [[tokens:2]]"));
        next.StatusCode.ShouldBe(HttpStatusCode.OK, "the finished request made room");
        client.Dispose();
    }

    [Fact]
    public async Task ABatchKeysRequest_WaitsBehindAnInteractiveOne_ThatCameLater()
    {
        var profile = await SeedProfiles.AddAsync(host.App, "Priority Llama", FixtureCatalog.LlamaTools.RepoId, configure: p => p.MaxConcurrentRequests = 1);
        var (interactive, user) = await host.NewAccountAsync();
        using var batch = await KeyClientAsync(user.Id, RequestPriority.Batch);
        using var leaveHolder = new CancellationTokenSource();
        using var leaveInteractive = new CancellationTokenSource();
        var holder = await OpenStreamAsync(interactive, GatewayHost.Chat("Priority Llama", "Hold [[hang]]", stream: true), leaveHolder.Token);
        await ReadUntilContentAsync(holder, leaveHolder.Token);

        var batchAnswer = batch.PostAsJsonAsync("/v1/chat/completions", GatewayHost.Chat("Priority Llama", "Batch job [[tokens:2]]"));
        await Eventually.WaitUntilAsync(() => host.Lanes.InFlight(profile.Id) == 2, Patience, "the batch request waits for the only slot");
        var later = OpenStreamAsync(interactive, GatewayHost.Chat("Priority Llama", "Me first [[hang]]", stream: true), leaveInteractive.Token);
        await Eventually.WaitUntilAsync(() => host.Lanes.InFlight(profile.Id) == 3, Patience, "the interactive request waits too, behind it");
        leaveHolder.Cancel();
        holder.Dispose();
        var laterResponse = await later;
        await ReadUntilContentAsync(laterResponse, leaveInteractive.Token);

        batchAnswer.IsCompleted.ShouldBeFalse("the freed slot went to the interactive request, which still holds it");
        leaveInteractive.Cancel();
        laterResponse.Dispose();
        var answer = await batchAnswer;
        answer.StatusCode.ShouldBe(HttpStatusCode.OK, await answer.Content.ReadAsStringAsync());
        var rows = await RowsAsync(user.Id, 3);
        rows.Single(r => r.ApiKeyId is not null).QueueWaitMs.ShouldBeGreaterThan(0);
        interactive.Dispose();
    }

    private UsageQuotas Quotas => host.App.Services.GetRequiredService<UsageQuotas>();

    /// <summary>The user's ledger rows once at least <paramref name="count"/> are written, oldest first.</summary>
    private Task<List<UsageRecord>> RowsAsync(string userId, int count) => Eventually.ValueAsync(
        () => host.App.WithScopeAsync(services => services.GetRequiredService<AppDbContext>().UsageRecords
            .Where(r => r.UserId == userId).OrderBy(r => r.StartedAtUtc).ThenBy(r => r.Id).ToListAsync()),
        rows => rows.Count >= count, Patience, $"{count} ledger rows are written", rows => $"{rows.Count} rows");

    private async Task<HttpClient> KeyClientAsync(string userId, RequestPriority priority)
    {
        var created = await host.App.WithScopeAsync(services => services.GetRequiredService<PersonalApiKeys>()
            .CreateAsync(new KeyViewer(userId, false), new NewApiKey("batch jobs", null, ApiKeyScopes.Inference, priority)));
        created.Succeeded.ShouldBeTrue();
        var client = host.Anonymous();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", created.Secret);
        return client;
    }

    private static async Task<string> ReadStreamAsync(HttpClient client, JsonObject body)
    {
        using var response = await OpenStreamAsync(client, body, CancellationToken.None);
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        return await response.Content.ReadAsStringAsync();
    }

    private static Task<HttpResponseMessage> OpenStreamAsync(HttpClient client, JsonObject body, CancellationToken cancellationToken) =>
        client.SendAsync(new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = JsonContent.Create(body) },
            HttpCompletionOption.ResponseHeadersRead, cancellationToken);

    /// <summary>Reads the stream until a chunk of the answer's text arrived: the request is running.</summary>
    private static async Task ReadUntilContentAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancellationToken));
        string? line;
        do
        {
            line = await reader.ReadLineAsync(cancellationToken).AsTask().WaitAsync(Patience, cancellationToken);
        }
        while (line is not null && !(line.StartsWith("data: {", StringComparison.Ordinal) && line.Contains("\"content\"", StringComparison.Ordinal)
            && JsonNode.Parse(line["data: ".Length..])?["choices"]?[0]?["delta"]?["content"] is JsonValue content && content.ToString().Length > 0));

        line.ShouldNotBeNull("an answer chunk arrived");
    }
}
