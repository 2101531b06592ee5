using MlxManager.Core.Chat.History;
using MlxManager.Core.Chat.Servers;
using MlxManager.Core.Engines;
using MlxManager.ModelFixtures;
using MlxManager.Web.Tests.Chat.Infrastructure;

namespace MlxManager.Web.Tests.Chat;

/// <summary>
/// One ready server per engine flavour (Qwen3-style thinking + tools model; Qwen2.5-VL for mlx_vlm), plus
/// mlx-openai-server serving the vision model multimodal.
/// </summary>
public sealed class FlavourHost : ChatHost
{
    public const string OpenAiVision = "mlx-openai-server multimodal";

    public Dictionary<string, ChatServer> ByEngine { get; } = new();

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        var started = await Task.WhenAll(
            Servers.StartAsync(EmulatedServers.ProfileFor(FixtureCatalog.QwenThinking, MlxLmServer.EngineKey, id: 1)),
            Servers.StartAsync(EmulatedServers.ProfileFor(FixtureCatalog.QwenVision, MlxVlmServer.EngineKey, id: 2)),
            Servers.StartAsync(EmulatedServers.ProfileFor(FixtureCatalog.QwenThinking, MlxOpenAiServer.EngineKey, id: 3)),
            Servers.StartAsync(EmulatedServers.ProfileFor(FixtureCatalog.QwenVision, MlxOpenAiServer.EngineKey, OpenAiVision, id: 4)));
        foreach (var server in started)
        {
            ByEngine[server.Profile.Name == OpenAiVision ? OpenAiVision : server.Profile.Engine] = server;
        }
    }
}

/// <summary>The answer streams from each engine flavour through the manager's SSE into the page, and is saved.</summary>
public sealed class ChatStreamingTests(FlavourHost host) : IClassFixture<FlavourHost>
{
    public static TheoryData<string> Engines => new() { MlxLmServer.EngineKey, MlxVlmServer.EngineKey, MlxOpenAiServer.EngineKey };

    [Theory]
    [MemberData(nameof(Engines))]
    public async Task Send_StreamsTheAnswerInPieces_AndSavesItWithMetrics(string engine)
    {
        using var user = await host.NewUserAsync();
        var conversation = await user.NewConversationAsync(host.ByEngine[engine].ServerId);

        var turn = await user.TurnAsync(conversation, "Tell me a story [[tokens:300]]");

        turn.Outcome.ShouldBe("answered", turn.Describe());
        turn.OfType("answer").Count().ShouldBeGreaterThan(2, "the answer must arrive in several renders, not at once");
        var renders = turn.OfType("answer").Select(e => e.At).ToList();
        (renders[^1] - renders[0]).ShouldBeGreaterThan(TimeSpan.FromMilliseconds(200), "300 tokens at 400 tok/s take ~0.75 s");
        var completed = turn.OfType("completed").Last().Data;
        completed.GetProperty("metrics").GetProperty("ttftMs").GetInt32().ShouldBeGreaterThan(0);
        completed.GetProperty("metrics").GetProperty("tokensPerSecond").GetDouble().ShouldBeGreaterThan(50);

        var saved = await user.SavedMessagesAsync(conversation);
        saved.Select(m => m.Role).ShouldBe([ConversationRole.User, ConversationRole.Assistant]);
        var answer = saved[1];
        answer.Content.Split(' ').Length.ShouldBe(300);
        answer.Incomplete.ShouldBeFalse();
        answer.CompletionTokens.ShouldNotBeNull().ShouldBeGreaterThanOrEqualTo(300);
        answer.TimeToFirstTokenMs.ShouldNotBeNull();
        answer.TokensPerSecond.ShouldNotBeNull();
        answer.Model.ShouldBe(host.ByEngine[engine].ModelReference);
    }
}
