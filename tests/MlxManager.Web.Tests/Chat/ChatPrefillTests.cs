using MlxManager.Core.Engines;
using MlxManager.ModelFixtures;
using MlxManager.Web.Tests.Chat.Infrastructure;

namespace MlxManager.Web.Tests.Chat;

public sealed class PrefillHost : ChatHost
{
    public int ServerId { get; private set; }

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        var profile = EmulatedServers.ProfileFor(FixtureCatalog.Phi8Bit, MlxLmServer.EngineKey, id: 71);
        profile.ExtraArguments = "--prefill-step-size 256";
        ServerId = (await Servers.StartAsync(profile, new Dictionary<string, string> { ["EMULATOR_PREFILL_RATE"] = "4000" })).ServerId;
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
}
