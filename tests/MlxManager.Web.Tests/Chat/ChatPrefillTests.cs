using MlxManager.Core.Chat.History;
using MlxManager.Core.Engines;
using MlxManager.ModelFixtures;
using MlxManager.Web.Tests.Chat.Infrastructure;

namespace MlxManager.Web.Tests.Chat;

public sealed class PrefillHost : ChatHost
{
    public int ServerId { get; private set; }

    /// <summary>A server whose prompt processing takes seconds.</summary>
    public int SlowServerId { get; private set; }

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        var profile = EmulatedServers.ProfileFor(FixtureCatalog.Phi8Bit, MlxLmServer.EngineKey, id: 71);
        profile.ExtraArguments = "--prefill-step-size 256";
        ServerId = (await Servers.StartAsync(profile, new Dictionary<string, string> { ["EMULATOR_PREFILL_RATE"] = "4000" })).ServerId;
        var slow = EmulatedServers.ProfileFor(FixtureCatalog.Phi8Bit, MlxLmServer.EngineKey, "slow prefill", id: 72);
        slow.ExtraArguments = "--prefill-step-size 16";
        SlowServerId = (await Servers.StartAsync(slow, new Dictionary<string, string> { ["EMULATOR_PREFILL_RATE"] = "50" })).ServerId;
    }
}

/// <summary>mlx_lm.server's <c>: keepalive n/m</c> comments become prefill progress on the page.</summary>
public sealed class ChatPrefillTests(PrefillHost host) : IClassFixture<PrefillHost>
{
    [Fact]
    public async Task LongPrompt_ReportsPrefillProgress_BeforeTheAnswer()
    {
        using var user = await host.NewUserAsync();
        var conversation = await user.NewConversationAsync(host.ServerId);
        var prompt = string.Join(' ', Enumerable.Repeat("river stone light garden", 400)) + " [[tokens:3]]";

        var turn = await user.TurnAsync(conversation, prompt);

        turn.Outcome.ShouldBe("answered", turn.Describe());
        var progress = turn.OfType("prefill").Select(e => e.Data.GetProperty("fraction").GetDouble()).ToList();
        progress.Count.ShouldBeGreaterThan(2, turn.Describe());
        progress.ShouldBeInOrder(SortDirection.Ascending);
        progress[^1].ShouldBe(1.0);
        turn.OfType("prefill").Last().At.ShouldBeLessThanOrEqualTo(turn.OfType("answer").First().At);
    }

    [Fact]
    public async Task StopDuringPrefill_IsANormalStop_WithNoError()
    {
        using var user = await host.NewUserAsync();
        var conversation = await user.NewConversationAsync(host.SlowServerId);
        var prompt = string.Join(' ', Enumerable.Repeat("river stone light garden", 100)) + " [[tokens:3]]";
        var turnId = await user.SendAsync(conversation, prompt);
        var stopped = false;

        var turn = await user.ReadTurnAsync(turnId, async e =>
        {
            if (e.Type == "prefill" && !stopped)
            {
                stopped = true;
                (await user.StopAsync(conversation, turnId)).StatusCode.ShouldBe(System.Net.HttpStatusCode.NoContent);
            }
        });

        turn.Outcome.ShouldBe("stopped", turn.Describe());
        turn.Error.ShouldBeNull(turn.Describe());
        turn.OfType("failure").ShouldBeEmpty(turn.Describe());
        turn.OfType("answer").ShouldBeEmpty("the stop came before the first token");
        (await user.SavedMessagesAsync(conversation)).ShouldAllBe(m => m.Role == ConversationRole.User);
        (await user.App.GetHtmlAsync($"/chat/{conversation}")).ShouldNotContain("failed unexpectedly");
    }
}
