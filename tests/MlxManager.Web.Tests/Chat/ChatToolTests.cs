using System.Text.Json;
using MlxManager.Core.Chat.History;
using MlxManager.Core.Engines;
using MlxManager.Web.Tests.Chat.Infrastructure;

namespace MlxManager.Web.Tests.Chat;

/// <summary>
/// CHAT-04 end to end: the model's calls (whole from mlx_lm.server, fragments from the others) run through the app's
/// own MCP endpoint over HTTP, the results go back, and everything is saved.
/// </summary>
public sealed class ChatToolTests(FlavourHost host) : IClassFixture<FlavourHost>
{
    public static TheoryData<string> Engines => new() { MlxLmServer.EngineKey, MlxVlmServer.EngineKey, MlxOpenAiServer.EngineKey };

    [Theory]
    [MemberData(nameof(Engines))]
    public async Task ToolCall_RunsThroughMcp_AndTheModelAnswersWithTheResult(string engine)
    {
        using var user = await host.NewUserAsync();
        var conversation = await user.NewConversationAsync(host.ByEngine[engine].ServerId);

        var turn = await user.TurnAsync(conversation, "What is 12*7?");

        turn.Outcome.ShouldBe("answered", turn.Describe());
        var call = turn.OfType("tool-call").ShouldHaveSingleItem().Data;
        call.GetProperty("name").GetString().ShouldBe("calculate");
        JsonDocument.Parse(call.GetProperty("arguments").GetString()!).RootElement.GetProperty("expression").GetString().ShouldBe("12*7");
        var result = turn.OfType("tool-result").ShouldHaveSingleItem().Data;
        result.GetProperty("content").GetString().ShouldBe("84");
        result.GetProperty("isError").GetBoolean().ShouldBeFalse();
        turn.LastAnswerHtml.ShouldContain("The calculate tool returned: &quot;84&quot;");

        var saved = await user.SavedMessagesAsync(conversation);
        saved.Select(m => m.Role).ShouldBe([ConversationRole.User, ConversationRole.Assistant, ConversationRole.Tool, ConversationRole.Assistant]);
        ConversationStore.ToolCallsOf(saved[1]).ShouldHaveSingleItem().Name.ShouldBe("calculate");
        saved[2].Content.ShouldBe("84");
        saved[2].ToolCallId.ShouldBe(ConversationStore.ToolCallsOf(saved[1])[0].Id);
    }

    [Theory]
    [MemberData(nameof(Engines))]
    public async Task TwoCallsInOneTurn_ShareOneAssistantMessage_FollowedByOneToolMessageEach(string engine)
    {
        using var user = await host.NewUserAsync();
        var conversation = await user.NewConversationAsync(host.ByEngine[engine].ServerId);

        var turn = await user.TurnAsync(conversation, "What is the weather in Paris and what is 6*7?");

        turn.Outcome.ShouldBe("answered", turn.Describe());
        turn.OfType("tool-call").Select(e => e.Data.GetProperty("name").GetString()).ShouldBe(["get_weather", "calculate"]);
        var saved = await user.SavedMessagesAsync(conversation);
        saved.Select(m => m.Role).ShouldBe([ConversationRole.User, ConversationRole.Assistant, ConversationRole.Tool, ConversationRole.Tool, ConversationRole.Assistant]);
        ConversationStore.ToolCallsOf(saved[1]).Select(c => c.Name).ShouldBe(["get_weather", "calculate"]);
        saved[2].ToolName.ShouldBe("get_weather");
        saved[2].Content.ShouldContain("Paris");
        saved[3].Content.ShouldBe("42");
        saved[4].Content.ShouldContain("The calculate tool returned: \"42\"");

        // The next request carries them in that shape: one assistant message with both calls, then two tool messages.
        var echo = await user.EchoAsync(conversation, "[[echo]]");
        var roles = echo.GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("role").GetString()).ToList();
        roles.ShouldBe(["user", "assistant", "tool", "tool", "assistant", "user"]);
        echo.GetProperty("messages")[1].GetProperty("tool_calls").GetInt32().ShouldBe(2);
    }

    [Fact]
    public async Task ToolError_IsShownAndSentToTheModel_WhichStillAnswers()
    {
        using var user = await host.NewUserAsync();
        var conversation = await user.NewConversationAsync(host.ByEngine[MlxLmServer.EngineKey].ServerId);

        var turn = await user.TurnAsync(conversation, "What is 1/0?");

        turn.Outcome.ShouldBe("answered", turn.Describe());
        var result = turn.OfType("tool-result").ShouldHaveSingleItem().Data;
        result.GetProperty("isError").GetBoolean().ShouldBeTrue();
        result.GetProperty("content").GetString()!.ShouldContain("zero", Case.Insensitive);
        var saved = await user.SavedMessagesAsync(conversation);
        saved.Single(m => m.Role == ConversationRole.Tool).IsError.ShouldBeTrue();
        saved.Last().Content.ShouldContain("The calculate tool returned");
    }

    [Fact]
    public async Task ToolsOfferedToTheModel_ComeFromTheMcpEndpoint_AndTheSwitchTurnsThemOff()
    {
        using var user = await host.NewUserAsync();
        var conversation = await user.NewConversationAsync(host.ByEngine[MlxLmServer.EngineKey].ServerId);

        var on = await user.EchoAsync(conversation, "[[echo]]");
        on.GetProperty("tools").EnumerateArray().Select(t => t.GetString()).Order().ShouldBe(["calculate", "get_weather"]);

        (await user.App.PostFormAsync($"/chat/{conversation}?handler=Settings",
            new Dictionary<string, string> { ["useDefaultPrompt"] = "true", ["thinking"] = "true", ["tools"] = "false" }, $"/chat/{conversation}"))
            .StatusCode.ShouldBe(System.Net.HttpStatusCode.Redirect);
        var off = await user.EchoAsync(conversation, "[[echo]] again");
        off.GetProperty("tools").GetArrayLength().ShouldBe(0);
    }
}
