using System.Text;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using MlxManager.Core.Accounts;
using MlxManager.Core.Chat;
using MlxManager.Core.Chat.Servers;
using MlxManager.Core.Engines;
using MlxManager.ModelFixtures;
using MlxManager.Web.Chat;
using MlxManager.Web.Tests.Chat.Infrastructure;

namespace MlxManager.Web.Tests.Chat;

/// <summary>One ready mlx_lm server with a thinking model.</summary>
public sealed class RetentionHost : ChatHost
{
    public ChatServer Server { get; private set; } = null!;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        Server = await Servers.StartAsync(EmulatedServers.ProfileFor(FixtureCatalog.QwenThinking, MlxLmServer.EngineKey, id: 1));
    }
}

/// <summary>
/// A turn keeps what a late reader needs — the last whole answer and thinking of each round and the deltas after them —
/// so the bytes it holds follow the answer's size, not how many times it was re-rendered.
/// </summary>
public sealed class ChatTurnRetentionTests(RetentionHost host) : IClassFixture<RetentionHost>
{
    [Fact]
    public async Task ALateReader_BuildsTheSameFinalAnswer_AndTheTurnNeverKeptMoreThanTwiceIt()
    {
        using var user = await host.NewUserAsync();
        var conversation = await user.NewConversationAsync(host.Server.ServerId);
        var turnId = await user.SendAsync(conversation, "Tell me a long story [[tokens:3000]]");

        var live = await user.ReadTurnAsync(turnId, timeout: TimeSpan.FromMinutes(2));
        var late = await user.ReadTurnAsync(turnId);

        live.Outcome.ShouldBe("answered", live.Describe());
        var saved = await user.LastAnswerAsync(conversation);
        var rendered = host.App.Services.GetRequiredService<ChatMarkdown>().Render(saved.Content);
        live.LastAnswerHtml.ShouldBe(rendered, "the deltas build the answer the page shows afterwards");
        late.LastAnswerHtml.ShouldBe(rendered);
        late.Thinking.ShouldBe(live.Thinking);
        live.Thinking.ShouldNotBeEmpty();
        live.OfType("answer").Count(e => e.Data.TryGetProperty("at", out _)).ShouldBeGreaterThan(0, "most renders go out as deltas");
        late.OfType("answer").Count().ShouldBeLessThan(live.OfType("answer").Count(), "the late reader gets the last whole answer, not every render");

        var turn = host.App.Services.GetRequiredService<ChatTurns>().Find(turnId, await UserIdAsync(user.Email)).ShouldNotBeNull();
        var answerBytes = Encoding.UTF8.GetByteCount(rendered) + Encoding.UTF8.GetByteCount(live.Thinking);
        turn.PeakRetainedBytes.ShouldBeLessThanOrEqualTo(2L * answerBytes, $"kept {turn.PeakRetainedBytes} bytes at most for {answerBytes} bytes of answer and thinking");
        turn.RetainedBytes.ShouldBeLessThanOrEqualTo(turn.PeakRetainedBytes);
    }

    private async Task<string> UserIdAsync(string email) =>
        await host.App.WithScopeAsync(async services => (await services.GetRequiredService<UserManager<AppUser>>().FindByEmailAsync(email))!.Id);
}
