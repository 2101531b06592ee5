using MlxManager.Core.Chat.Servers;
using MlxManager.Core.Engines;
using MlxManager.ModelFixtures;
using MlxManager.Web.Tests.Chat.Infrastructure;

namespace MlxManager.Web.Tests.Chat;

/// <summary>A thinking model in every shape the engines produce it.</summary>
public sealed class ThinkingHost : ChatHost
{
    public Dictionary<string, ChatServer> Shapes { get; } = new();

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        var rawOpenAi = EmulatedServers.ProfileFor(FixtureCatalog.QwenThinking, MlxOpenAiServer.EngineKey, "openai raw", id: 14);
        rawOpenAi.ReasoningParser = null;
        rawOpenAi.ToolCallParser = null;
        var shapes = new (string Shape, Task<ChatServer> Start)[]
        {
            ("reasoning (mlx_lm)", Servers.StartAsync(EmulatedServers.ProfileFor(FixtureCatalog.QwenThinking, MlxLmServer.EngineKey, id: 11))),
            ("reasoning_content (mlx_vlm)", Servers.StartAsync(EmulatedServers.ProfileFor(FixtureCatalog.QwenThinking, MlxVlmServer.EngineKey, id: 12))),
            ("reasoning_content (mlx-openai-server)", Servers.StartAsync(EmulatedServers.ProfileFor(FixtureCatalog.QwenThinking, MlxOpenAiServer.EngineKey, id: 13))),
            ("inline tags (mlx-openai-server without parser)", Servers.StartAsync(rawOpenAi)),
            ("inline tags split (mlx_lm)", Servers.StartAsync(EmulatedServers.ProfileFor(FixtureCatalog.InlineThinking, MlxLmServer.EngineKey, id: 15))),
            ("lone closing tag (DeepSeek-R1)", Servers.StartAsync(EmulatedServers.ProfileFor(FixtureCatalog.DeepSeekR1, MlxLmServer.EngineKey, id: 16))),
            ("lone closing tag, not announced (DeepSeek-R1)", Servers.StartAsync(
                EmulatedServers.ProfileFor(FixtureCatalog.DeepSeekR1, MlxLmServer.EngineKey, "deepseek unannounced", id: 17),
                capabilities: c => c with { ThinkingOpensInPrompt = false })),
        };
        foreach (var (shape, start) in shapes)
        {
            Shapes[shape] = await start;
        }
    }
}

/// <summary>CHAT-01 end to end: every thinking shape reaches the page as thinking, never as the answer, and is never sent back.</summary>
public sealed class ChatThinkingTests(ThinkingHost host) : IClassFixture<ThinkingHost>
{
    public static TheoryData<string> Shapes => new()
    {
        "reasoning (mlx_lm)",
        "reasoning_content (mlx_vlm)",
        "reasoning_content (mlx-openai-server)",
        "inline tags (mlx-openai-server without parser)",
        "inline tags split (mlx_lm)",
        "lone closing tag (DeepSeek-R1)",
        "lone closing tag, not announced (DeepSeek-R1)",
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public async Task Thinking_ArrivesInThePanel_BeforeTheAnswer_AndIsSavedApart(string shape)
    {
        using var user = await host.NewUserAsync();
        var conversation = await user.NewConversationAsync(host.Shapes[shape].ServerId);

        var turn = await user.TurnAsync(conversation, "Why is the sky blue?");

        turn.Outcome.ShouldBe("answered", turn.Describe());
        var thinking = turn.Thinking + string.Concat(turn.OfType("thinking-reset").Select(e => e.Data.GetProperty("text").GetString()));
        thinking.ShouldContain("Okay, the user wrote", Case.Sensitive, turn.Describe());
        var answer = turn.LastAnswerHtml;
        answer.ShouldNotContain("think>");
        answer.ShouldNotContain("Okay, the user wrote");
        answer.Length.ShouldBeGreaterThan(20);
        var firstThinking = turn.Events.First(e => e.Type is "thinking" or "thinking-reset");
        var lastAnswer = turn.OfType("answer").Last();
        firstThinking.At.ShouldBeLessThanOrEqualTo(lastAnswer.At);

        var saved = await user.LastAnswerAsync(conversation);
        saved.Reasoning.ShouldNotBeNull().ShouldContain("Okay, the user wrote");
        saved.Reasoning.ShouldNotContain("think>");
        saved.Content.ShouldNotContain("think>");
        saved.Content.ShouldNotContain("Okay, the user wrote");
        saved.ThinkingMs.ShouldNotBeNull();
    }

    [Fact]
    public async Task LoneClosingTag_NotAnnounced_MovesTheTextAlreadyShownToThePanel()
    {
        using var user = await host.NewUserAsync();
        var conversation = await user.NewConversationAsync(host.Shapes["lone closing tag, not announced (DeepSeek-R1)"].ServerId);

        var turn = await user.TurnAsync(conversation, "Why is the sky blue?");

        turn.OfType("thinking-reset").ShouldHaveSingleItem(turn.Describe());
        turn.OfType("answer").First().Data.GetProperty("html").GetString()!.ShouldContain("Okay", Case.Sensitive, "shown as answer before the closing tag came");
    }

    [Theory]
    [InlineData("reasoning (mlx_lm)")]
    [InlineData("inline tags split (mlx_lm)")]
    [InlineData("lone closing tag (DeepSeek-R1)")]
    public async Task Thinking_IsNeverSentBack_OnLaterTurns(string shape)
    {
        using var user = await host.NewUserAsync();
        var conversation = await user.NewConversationAsync(host.Shapes[shape].ServerId);
        await user.TurnAsync(conversation, "Why is the sky blue?");
        var first = await user.LastAnswerAsync(conversation);

        var echo = await user.EchoAsync(conversation, "What did you receive? [[echo]]");

        var sentBack = echo.GetProperty("messages").EnumerateArray().Where(m => m.GetProperty("role").GetString() == "assistant").ToList();
        sentBack.ShouldHaveSingleItem();
        var content = sentBack[0].GetProperty("content").GetString()!;
        content.ShouldBe(first.Content);
        content.ShouldNotContain("Okay, the user wrote");
        content.ShouldNotContain("think>");
    }

    [Theory]
    [InlineData("reasoning (mlx_lm)", "chat_template_kwargs")]
    [InlineData("reasoning_content (mlx_vlm)", "enable_thinking")]
    [InlineData("reasoning_content (mlx-openai-server)", "chat_template_kwargs")]
    public async Task ThinkingSwitch_Off_IsSentToTheEngine_AndNoThinkingComes(string shape, string field)
    {
        using var user = await host.NewUserAsync();
        var conversation = await user.NewConversationAsync(host.Shapes[shape].ServerId);
        var on = await user.EchoAsync(conversation, "[[echo]] first");
        Flag(on, field).ShouldBeTrue();

        var saved = await user.App.PostFormAsync($"/chat/{conversation}?handler=Settings",
            new Dictionary<string, string> { ["useDefaultPrompt"] = "true", ["thinking"] = "false", ["tools"] = "true" }, $"/chat/{conversation}");
        saved.StatusCode.ShouldBe(System.Net.HttpStatusCode.Redirect);
        var turn = await user.TurnAsync(conversation, "Why is the sky blue?");
        var off = await user.EchoAsync(conversation, "[[echo]] second");

        Flag(off, field).ShouldBeFalse();
        turn.OfType("thinking").ShouldBeEmpty(turn.Describe());
        (await user.LastAnswerAsync(conversation)).Reasoning.ShouldBeNull();
    }

    private static bool Flag(System.Text.Json.JsonElement echo, string field) => field == "enable_thinking"
        ? echo.GetProperty("enable_thinking").GetBoolean()
        : echo.GetProperty("chat_template_kwargs").GetProperty("enable_thinking").GetBoolean();
}
