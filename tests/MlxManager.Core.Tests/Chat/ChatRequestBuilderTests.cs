using System.Text;
using System.Text.Json;
using MlxManager.Core.Chat;

namespace MlxManager.Core.Tests.Chat;

public class ChatRequestBuilderTests
{
    private static readonly ChatRequestOptions Options = new() { Model = "mlx-community/Qwen3-4B-4bit" };

    [Fact]
    public void Build_ExcludesThinking_AndPutsAllCallsInOneAssistantMessageFollowedByOneToolMessageEach()
    {
        var calls = new[]
        {
            new ToolCall("call_1", "get_weather", """{"location":"Paris"}"""),
            new ToolCall("call_2", "calculate", """{"expression":"2+2"}"""),
        };
        List<ChatMessage> conversation =
        [
            new UserMessage("Weather in Paris, and 2+2?"),
            new AssistantMessage("", "I should call both tools. SECRET-THOUGHT", calls),
            new ToolResultMessage("call_1", "get_weather", """{"temperature":18}"""),
            new ToolResultMessage("call_2", "calculate", "4"),
            new AssistantMessage("18 °C and 4.", "Summarise. SECRET-THOUGHT-2"),
            new UserMessage("Thanks"),
        ];

        var json = Build(conversation, Options);
        var text = json.RootElement.GetRawText();
        var messages = json.RootElement.GetProperty("messages").EnumerateArray().ToList();

        text.ShouldNotContain("SECRET-THOUGHT");
        text.ShouldNotContain("reasoning");
        messages.Select(m => m.GetProperty("role").GetString()).ShouldBe(["user", "assistant", "tool", "tool", "assistant", "user"]);
        var toolCalls = messages[1].GetProperty("tool_calls").EnumerateArray().ToList();
        toolCalls.Select(c => c.GetProperty("id").GetString()).ShouldBe(["call_1", "call_2"]);
        toolCalls[0].GetProperty("type").GetString().ShouldBe("function");
        toolCalls[0].GetProperty("function").GetProperty("name").GetString().ShouldBe("get_weather");
        toolCalls[0].GetProperty("function").GetProperty("arguments").GetString().ShouldBe("""{"location":"Paris"}""");
        messages[1].GetProperty("content").GetString().ShouldBe("");
        messages[2].GetProperty("tool_call_id").GetString().ShouldBe("call_1");
        messages[3].GetProperty("tool_call_id").GetString().ShouldBe("call_2");
        messages[3].GetProperty("content").GetString().ShouldBe("4");
    }

    [Fact]
    public void Build_AlwaysUsesTheProfileModel_StreamsWithUsage_AndWritesSamplingFields()
    {
        var options = Options with
        {
            MaxTokens = 4096,
            MaxTokensField = MaxTokensField.Both,
            Temperature = 0.7,
            TopP = 0.95,
            TopK = 20,
            MinP = 0.05,
            RepetitionPenalty = 1.1,
            Seed = 7,
            Stop = ["<|im_end|>"],
            EnableThinking = false,
        };

        var root = Build([new UserMessage("hi")], options).RootElement;

        root.GetProperty("model").GetString().ShouldBe("mlx-community/Qwen3-4B-4bit");
        root.GetProperty("stream").GetBoolean().ShouldBeTrue();
        root.GetProperty("stream_options").GetProperty("include_usage").GetBoolean().ShouldBeTrue();
        root.GetProperty("max_tokens").GetInt32().ShouldBe(4096);
        root.GetProperty("max_completion_tokens").GetInt32().ShouldBe(4096);
        root.GetProperty("temperature").GetDouble().ShouldBe(0.7);
        root.GetProperty("top_p").GetDouble().ShouldBe(0.95);
        root.GetProperty("top_k").GetInt32().ShouldBe(20);
        root.GetProperty("min_p").GetDouble().ShouldBe(0.05);
        root.GetProperty("repetition_penalty").GetDouble().ShouldBe(1.1);
        root.GetProperty("seed").GetInt32().ShouldBe(7);
        root.GetProperty("stop")[0].GetString().ShouldBe("<|im_end|>");
        root.GetProperty("chat_template_kwargs").GetProperty("enable_thinking").GetBoolean().ShouldBeFalse();
        root.TryGetProperty("tools", out _).ShouldBeFalse();
    }

    [Fact]
    public void Build_WithoutThinkingSwitch_SendsNoTemplateArguments()
    {
        Build([new UserMessage("hi")], Options).RootElement.TryGetProperty("chat_template_kwargs", out _).ShouldBeFalse();
    }

    [Fact]
    public void Build_AppliesTheProfileSystemPrompt_OnlyWhenTheConversationHasNone()
    {
        var withDefault = Options with { DefaultSystemPrompt = "You are terse." };

        var first = Build([new UserMessage("hi")], withDefault).RootElement.GetProperty("messages")[0];
        first.GetProperty("role").GetString().ShouldBe("system");
        first.GetProperty("content").GetString().ShouldBe("You are terse.");

        var own = Build([new SystemMessage("Answer in French."), new UserMessage("hi")], withDefault).RootElement.GetProperty("messages");
        own.GetArrayLength().ShouldBe(2);
        own[0].GetProperty("content").GetString().ShouldBe("Answer in French.");

        // The user cleared the prompt for this conversation: no system message at all.
        var cleared = Build([new SystemMessage(""), new UserMessage("hi")], withDefault).RootElement.GetProperty("messages");
        cleared.GetArrayLength().ShouldBe(1);
        cleared[0].GetProperty("role").GetString().ShouldBe("user");
    }

    [Fact]
    public void Build_ImagesAsDataUrls_TextFilesInlined_VideoAsVideoUrl()
    {
        var png = new byte[] { 0x89, 0x50, 0x4E, 0x47 };
        var user = new UserMessage([
            new TextPart("What is in these?"),
            new ImagePart("image/png", png, "cat.png"),
            new TextFilePart("notes.md", "Line with ``` fence\n"),
            new VideoPart("data:video/mp4;base64,AAAA", null, "clip.mp4"),
        ]);

        var parts = Build([user], Options).RootElement.GetProperty("messages")[0].GetProperty("content").EnumerateArray().ToList();

        parts.Select(p => p.GetProperty("type").GetString()).ShouldBe(["text", "image_url", "text", "video_url"]);
        parts[0].GetProperty("text").GetString().ShouldBe("What is in these?");
        parts[1].GetProperty("image_url").GetProperty("url").GetString().ShouldBe("data:image/png;base64," + Convert.ToBase64String(png));
        parts[2].GetProperty("text").GetString().ShouldBe("File: notes.md\n````\nLine with ``` fence\n````\n");
        parts[3].GetProperty("video_url").GetProperty("url").GetString().ShouldBe("data:video/mp4;base64,AAAA");
    }

    [Fact]
    public void Build_EveryRoundOfATurn_SendsTheImageEncodedOnce()
    {
        var image = new ImagePart("image/png", new byte[] { 0x89, 0x50, 0x4E, 0x47 }, "cat.png");
        var history = new ChatMessage[] { new UserMessage([new TextPart("What is it?"), image]) };

        var rounds = Enumerable.Range(0, 3).Select(_ => Build(history, Options)).ToList();
        var encoded = image.ToDataUrl();

        ReferenceEquals(encoded, image.ToDataUrl()).ShouldBeTrue("the data URL is built once, then reused");
        rounds.ShouldAllBe(r => r.RootElement.GetProperty("messages")[0].GetProperty("content")[1].GetProperty("image_url").GetProperty("url").GetString() == encoded);
        (image with { MediaType = "image/jpeg" }).ToDataUrl().ShouldBe("data:image/jpeg;base64,iVBORw==", "a changed copy encodes afresh");
        (image with { }).ShouldBe(image);
    }

    [Fact]
    public void Build_VideoForAnEngineWithoutVideo_SendsTheExtractedFramesAsImages()
    {
        var frames = new[] { new ImagePart("image/jpeg", new byte[] { 1 }), new ImagePart("image/jpeg", new byte[] { 2 }) };
        var user = new UserMessage([new TextPart("Describe"), new VideoPart("file:///tmp/clip.mp4", frames)]);

        var parts = Build([user], Options with { VideoDelivery = VideoDelivery.Frames }).RootElement
            .GetProperty("messages")[0].GetProperty("content").EnumerateArray().ToList();

        parts.Select(p => p.GetProperty("type").GetString()).ShouldBe(["text", "image_url", "image_url"]);
        parts[2].GetProperty("image_url").GetProperty("url").GetString().ShouldBe("data:image/jpeg;base64,Ag==");
    }

    [Fact]
    public void Build_VideoWithoutFramesForAnEngineWithoutVideo_SaysWhy()
    {
        var user = new UserMessage([new VideoPart("file:///tmp/clip.mp4", null, "clip.mp4")]);

        Should.Throw<InvalidOperationException>(() => ChatRequestBuilder.Build([user], Options with { VideoDelivery = VideoDelivery.Frames }))
            .Message.ShouldContain("clip.mp4");
    }

    [Fact]
    public void Build_TextOnlyUserMessage_IsAPlainString()
    {
        // mlx_lm.server accepts only text parts in a list; a plain string works everywhere.
        var user = new UserMessage([new TextPart("Summarise:"), new TextFilePart("a.txt", "alpha")]);

        var content = Build([user], Options).RootElement.GetProperty("messages")[0].GetProperty("content");

        content.ValueKind.ShouldBe(JsonValueKind.String);
        content.GetString().ShouldBe("Summarise:\n\nFile: a.txt\n```\nalpha\n```\n");
    }

    [Fact]
    public void Build_ConsecutiveUserMessages_AreMerged_SoTemplatesThatRequireAlternationWork()
    {
        var messages = Build([new UserMessage("first"), new UserMessage("second")], Options).RootElement.GetProperty("messages");

        messages.GetArrayLength().ShouldBe(1);
        messages[0].GetProperty("content").GetString().ShouldBe("first\n\nsecond");
    }

    [Fact]
    public void Build_ToolCallWithoutResult_IsAnsweredAsNotExecuted_AndOrphanResultsAreDropped()
    {
        List<ChatMessage> conversation =
        [
            new UserMessage("go"),
            new ToolResultMessage("orphan", "x", "stale"),
            new AssistantMessage("", null, [new ToolCall("c1", "calculate", "{}"), new ToolCall("c2", "calculate", "not json")]),
            new ToolResultMessage("c1", "calculate", "1"),
            new UserMessage("stopped, try again"),
        ];

        var messages = Build(conversation, Options).RootElement.GetProperty("messages").EnumerateArray().ToList();

        messages.Select(m => m.GetProperty("role").GetString()).ShouldBe(["user", "assistant", "tool", "tool", "user"]);
        messages[3].GetProperty("tool_call_id").GetString().ShouldBe("c2");
        messages[3].GetProperty("content").GetString().ShouldBe("Error: " + ChatRequestBuilder.MissingToolResult);

        // mlx_lm.server json.loads() earlier calls' arguments: broken JSON would fail every later request.
        messages[1].GetProperty("tool_calls")[1].GetProperty("function").GetProperty("arguments").GetString().ShouldBe("{}");
    }

    [Fact]
    public void Build_WithTools_WritesOpenAiFunctionSchemas()
    {
        using var schema = JsonDocument.Parse("""{"type":"object","properties":{"expression":{"type":"string"}},"required":["expression"]}""");
        var options = Options with
        {
            Tools = [new ToolDefinition("calculate", "Evaluates arithmetic.", schema.RootElement), new ToolDefinition("now", null, null)],
        };

        var tools = Build([new UserMessage("hi")], options).RootElement.GetProperty("tools").EnumerateArray().ToList();

        tools.Count.ShouldBe(2);
        tools[0].GetProperty("type").GetString().ShouldBe("function");
        tools[0].GetProperty("function").GetProperty("name").GetString().ShouldBe("calculate");
        tools[0].GetProperty("function").GetProperty("description").GetString().ShouldBe("Evaluates arithmetic.");
        tools[0].GetProperty("function").GetProperty("parameters").GetProperty("required")[0].GetString().ShouldBe("expression");
        tools[1].GetProperty("function").GetProperty("parameters").GetProperty("type").GetString().ShouldBe("object");
    }

    [Fact]
    public void ToHttpContent_HasAContentLength_SoItIsNeverSentChunked()
    {
        var body = ChatRequestBuilder.Build([new UserMessage("héllo")], Options);

        using var content = body.ToHttpContent();

        content.Headers.ContentLength.ShouldBe(body.Utf8Json.Length);
        content.Headers.ContentType!.MediaType.ShouldBe("application/json");
        Encoding.UTF8.GetString(body.Utf8Json.Span).ShouldContain("héllo");
    }

    private static JsonDocument Build(IReadOnlyList<ChatMessage> conversation, ChatRequestOptions options) =>
        JsonDocument.Parse(ChatRequestBuilder.Build(conversation, options).Utf8Json);
}
