using System.Text.Json;
using System.Text.Json.Nodes;
using MlxManager.Core.Chat;
using MlxManager.Core.Engines;
using MlxManager.Core.Profiles;

namespace MlxManager.Core.Tests.Chat;

/// <summary>Engine request defaults (<c>BuildRequestDefaults(profile)</c>) merged into every chat request.</summary>
public sealed class ChatRequestDefaultsTests
{
    private static JsonElement Build(ChatRequestOptions options) =>
        JsonDocument.Parse(ChatRequestBuilder.Build([new UserMessage("hi")], options).ToString()).RootElement;

    [Fact]
    public void Build_AddsEngineDefaults_ThatTheOptionsDoNotSet()
    {
        var body = Build(new ChatRequestOptions
        {
            Model = "m",
            RequestDefaults = new JsonObject { ["temperature"] = 0.2, ["top_k"] = 40, ["repetition_penalty"] = 1.1 },
        });

        body.GetProperty("temperature").GetDouble().ShouldBe(0.2);
        body.GetProperty("top_k").GetInt32().ShouldBe(40);
        body.GetProperty("repetition_penalty").GetDouble().ShouldBe(1.1);
    }

    [Fact]
    public void Build_OptionsWinOverDefaults_AndModelMessagesStreamToolsAreNeverTaken()
    {
        var body = Build(new ChatRequestOptions
        {
            Model = "profile-model",
            Temperature = 0.7,
            MaxTokens = 100,
            RequestDefaults = new JsonObject
            {
                ["temperature"] = 0.1,
                ["max_completion_tokens"] = 5,
                ["model"] = "other",
                ["stream"] = false,
                ["messages"] = new JsonArray(),
                ["tools"] = new JsonArray(),
            },
        });

        body.GetProperty("model").GetString().ShouldBe("profile-model");
        body.GetProperty("temperature").GetDouble().ShouldBe(0.7);
        body.GetProperty("max_tokens").GetInt32().ShouldBe(100);
        body.TryGetProperty("max_completion_tokens", out _).ShouldBeFalse();
        body.GetProperty("stream").GetBoolean().ShouldBeTrue();
        body.GetProperty("messages").GetArrayLength().ShouldBe(1);
        body.TryGetProperty("tools", out _).ShouldBeFalse();
        body.EnumerateObject().Count(p => p.Name == "model").ShouldBe(1);
    }

    [Fact]
    public void Build_MergesTemplateArguments_AndTheConversationSwitchWins()
    {
        var body = Build(new ChatRequestOptions
        {
            Model = "m",
            EnableThinking = false,
            RequestDefaults = new JsonObject { ["chat_template_kwargs"] = new JsonObject { ["enable_thinking"] = true, ["reasoning_effort"] = "high" } },
        });

        var kwargs = body.GetProperty("chat_template_kwargs");
        kwargs.GetProperty("enable_thinking").GetBoolean().ShouldBeFalse();
        kwargs.GetProperty("reasoning_effort").GetString().ShouldBe("high");
    }

    [Fact]
    public void Build_WithTheMlxVlmDefaultsOfAProfile_SendsItsSampling()
    {
        var profile = new Profile { ModelRef = "m", Engine = MlxVlmServer.EngineKey, Temperature = 0.4, TopP = 0.9, Thinking = ThinkingMode.On };
        var defaults = EngineRegistry.Discover().Get(MlxVlmServer.EngineKey).BuildRequestDefaults(profile);

        var body = Build(new ChatRequestOptions { Model = "m", RequestDefaults = defaults });

        body.GetProperty("temperature").GetDouble().ShouldBe(0.4);
        body.GetProperty("top_p").GetDouble().ShouldBe(0.9);
    }
}
