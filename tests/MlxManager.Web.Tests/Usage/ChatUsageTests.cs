using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using MlxManager.Core.Data;
using MlxManager.Core.Engines;
using MlxManager.Core.Usage;
using MlxManager.ModelFixtures;
using MlxManager.Web.Tests.Chat.Infrastructure;

namespace MlxManager.Web.Tests.Usage;

/// <summary>A chat host of its own for the ledger's chat rows.</summary>
public sealed class UsageChatHost : ChatHost;

/// <summary>Every web-chat turn is one ledger row: no key, the engine's tokens, its outcome; the quota applies too.</summary>
public sealed class ChatUsageTests(UsageChatHost host) : IClassFixture<UsageChatHost>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task AnAnsweredTurn_IsAWebChatRow_WithTheEnginesTokens()
    {
        var server = await host.Servers.StartAsync(EmulatedServers.ProfileFor(FixtureCatalog.Phi8Bit, MlxLmServer.EngineKey, "ledger chat", id: 71));
        using var user = await host.NewUserAsync();
        var conversation = await user.NewConversationAsync(server.ServerId);

        var turn = await user.TurnAsync(conversation, "Hello [[tokens:4]]");

        turn.Outcome.ShouldBe("answered", turn.Describe());
        var row = (await RowsAsync(user.Email, 1)).Single();
        row.Source.ShouldBe(UsageSource.Chat);
        row.ApiKeyId.ShouldBeNull();
        row.Outcome.ShouldBe(UsageOutcome.Ok);
        row.ProfileName.ShouldBe("ledger chat");
        row.Model.ShouldBe(server.ModelReference);
        row.CompletionTokens.ShouldBe(5, "4 words and the end-of-sequence token, from the engine's usage");
        row.PromptTokens.ShouldBeGreaterThan(0);
        row.TokensEstimated.ShouldBeFalse();
        row.TimeToFirstTokenMs.ShouldNotBeNull();
        row.QueueWaitMs.ShouldBe(0, "the web chat never queues");
    }

    [Fact]
    public async Task AStoppedTurn_IsACancelledRow()
    {
        var server = await host.Servers.StartAsync(EmulatedServers.ProfileFor(FixtureCatalog.Phi8Bit, MlxLmServer.EngineKey, "ledger stop", id: 72),
            new Dictionary<string, string> { ["EMULATOR_TOKEN_RATE"] = "20" });
        using var user = await host.NewUserAsync();
        var conversation = await user.NewConversationAsync(server.ServerId);
        var turnId = await user.SendAsync(conversation, "Write a long essay [[tokens:2000]]");
        var stopped = false;

        var turn = await user.ReadTurnAsync(turnId, async e =>
        {
            if (e.Type == "answer" && !stopped)
            {
                stopped = true;
                (await user.StopAsync(conversation, turnId)).StatusCode.ShouldBe(HttpStatusCode.NoContent);
            }
        }, TimeSpan.FromSeconds(30));

        turn.Outcome.ShouldBe("stopped", turn.Describe());
        var row = (await RowsAsync(user.Email, 1)).Single();
        row.Outcome.ShouldBe(UsageOutcome.Cancelled);
        row.CompletionTokens.ShouldBeGreaterThan(0);
    }

    [Fact]
    public async Task OverTheDailyTokens_ATurnEndsAtOnceWithTheReason_AndIsARefusedRow()
    {
        var server = await host.Servers.StartAsync(EmulatedServers.ProfileFor(FixtureCatalog.Phi8Bit, MlxLmServer.EngineKey, "ledger quota", id: 73));
        using var user = await host.NewUserAsync();
        var userId = await UserIdAsync(user.Email);
        await host.App.Services.GetRequiredService<UsageQuotas>().SaveUserAsync(userId, tokensPerDay: 5, concurrentRequests: null, CancellationToken.None);
        var conversation = await user.NewConversationAsync(server.ServerId);
        (await user.TurnAsync(conversation, "Hello [[tokens:10]]")).Outcome.ShouldBe("answered");
        await Eventually.WaitUntilAsync(() => host.App.Services.GetRequiredService<UsageQuotas>().TokensToday(userId) >= 5, Patience, "the turn's tokens count");

        var refused = await user.TurnAsync(conversation, "More please");

        refused.Outcome.ShouldBe("failed", refused.Describe());
        refused.Error.ShouldNotBeNull().ShouldContain("of your 5 tokens for today");
        var rows = await RowsAsync(user.Email, 2);
        rows[1].Outcome.ShouldBe(UsageOutcome.RefusedByQuota);
        rows[1].ProfileName.ShouldBe("ledger quota");
    }

    private Task<string> UserIdAsync(string email) =>
        host.App.WithScopeAsync(services => services.GetRequiredService<AppDbContext>().Users.Where(u => u.Email == email).Select(u => u.Id).SingleAsync());

    private async Task<List<UsageRecord>> RowsAsync(string email, int count)
    {
        var userId = await UserIdAsync(email);
        return await Eventually.ValueAsync(
            () => host.App.WithScopeAsync(services => services.GetRequiredService<AppDbContext>().UsageRecords
                .Where(r => r.UserId == userId).OrderBy(r => r.StartedAtUtc).ThenBy(r => r.Id).ToListAsync()),
            rows => rows.Count >= count, Patience, $"{count} ledger rows are written", rows => $"{rows.Count} rows");
    }
}
