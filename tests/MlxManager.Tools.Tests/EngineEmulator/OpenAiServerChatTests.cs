using System.Text.Json.Nodes;
using MlxManager.EngineEmulator;
using MlxManager.ModelFixtures;
using MlxManager.Tools.Tests.EngineEmulator.Infrastructure;

namespace MlxManager.Tools.Tests.EngineEmulator;

public sealed class OpenAiServerWithParsersFixture : EngineFixture
{
    protected override Flavour Flavour => Flavour.OpenAiServer;
    protected override IEnumerable<string> Arguments =>
        ["--model-path", FixtureCatalog.QwenThinking.RepoId, "--reasoning-parser", "qwen3", "--tool-call-parser", "qwen3", "--no-log-file"];
}

/// <summary>mlx-openai-server's completion shapes with its parsers configured: a role-only first chunk,
/// <c>reasoning_content</c>, OpenAI-style tool-call fragments, usage always on the final chunk, ids <c>chatcmpl_…</c>
/// and <c>call_…</c>, and the model name check.</summary>
public sealed class OpenAiServerChatTests(OpenAiServerWithParsersFixture fixture) : IClassFixture<OpenAiServerWithParsersFixture>
{
    HttpClient Http => fixture.Http;

    async Task ReadyAsync() =>
        (await EngineProcess.EventuallyAsync(() => Http.GetAsync("/health").Result.IsSuccessStatusCode, TimeSpan.FromSeconds(60))).ShouldBeTrue();

    [Fact]
    public async Task Stream_StartsWithARoleOnlyChunkAndEndsWithUsage()
    {
        await ReadyAsync();
        var stream = await Chat.StreamAsync(Http, Chat.Body(Chat.User("Tell me about lanterns.")));

        var chunks = stream.Chunks;
        chunks[0]["choices"]![0]!["delta"]!.ToJsonString().ShouldBe("{\"role\":\"assistant\"}");
        chunks[0]["id"]!.GetValue<string>().ShouldStartWith("chatcmpl_");
        chunks[0]["model"]!.GetValue<string>().ShouldBe("local-text-model");
        var last = chunks[^1];
        last["choices"]![0]!["delta"]!.AsObject().Count.ShouldBe(0);
        last["choices"]![0]!["finish_reason"]!.GetValue<string>().ShouldBe("stop");
        last["usage"]!["completion_tokens"]!.GetValue<int>().ShouldBeGreaterThan(0);
        stream.Done.ShouldBeTrue();
    }

    [Fact]
    public async Task Stream_WithReasoningParser_SendsReasoningContent()
    {
        await ReadyAsync();
        var stream = await Chat.StreamAsync(Http, Chat.Body(Chat.User("Tell me about lanterns.")));

        stream.Deltas.Count(d => d.ContainsKey("reasoning_content")).ShouldBeGreaterThan(3);
        stream.Deltas.ShouldAllBe(d => !d.ContainsKey("reasoning"));
        stream.Content.ShouldNotContain("<think>");
    }

    [Fact]
    public async Task Stream_ToolCalls_AreFragmentedWithCallIds()
    {
        await ReadyAsync();
        var body = Chat.WeatherAndCalculatorTools(Chat.Body(Chat.User("weather in Lima, and 3+4?")));
        body["chat_template_kwargs"] = new JsonObject { ["enable_thinking"] = false };

        var stream = await Chat.StreamAsync(Http, body);

        var fragments = stream.Deltas.Where(d => d.ContainsKey("tool_calls")).Select(d => d["tool_calls"]![0]!.AsObject()).ToList();
        var first = fragments.Where(f => f.ContainsKey("id")).ToList();
        first.Count.ShouldBe(2);
        first.ShouldAllBe(f => f["id"]!.GetValue<string>().StartsWith("call_") && f["function"]!["name"] != null);
        var arguments = fragments.GroupBy(f => f["index"]!.GetValue<int>())
            .ToDictionary(g => g.Key, g => string.Concat(g.Select(f => f["function"]!["arguments"]!.GetValue<string>())));
        JsonNode.Parse(arguments[0])!["city"]!.GetValue<string>().ShouldBe("Lima");
        JsonNode.Parse(arguments[1])!["expression"]!.GetValue<string>().ShouldBe("3+4");
        stream.FinishReason.ShouldBe("tool_calls");
    }

    [Fact]
    public async Task NonStream_ToolCalls_HaveIdsTypeAndIndex()
    {
        await ReadyAsync();
        var body = Chat.WeatherAndCalculatorTools(Chat.Body(Chat.User("weather in Lima?")));

        var answer = await Chat.CompleteAsync(Http, body);

        var message = answer["choices"]![0]!["message"]!;
        message["reasoning_content"]!.GetValue<string>().ShouldNotBeEmpty();
        var call = message["tool_calls"]!.AsArray().ShouldHaveSingleItem()!;
        call["id"]!.GetValue<string>().ShouldStartWith("call_");
        call["index"]!.GetValue<int>().ShouldBe(0);
        answer["choices"]![0]!["finish_reason"]!.GetValue<string>().ShouldBe("tool_calls");
    }

    [Fact]
    public async Task Request_ForAnotherModel_Is404ModelNotFound()
    {
        await ReadyAsync();
        var body = Chat.Body(Chat.User("hi"));
        body["model"] = "someone/else";

        var (status, text) = await Chat.PostAsync(Http, body);

        status.ShouldBe(404);
        JsonNode.Parse(text)!["detail"]!["error"]!["type"]!.GetValue<string>().ShouldBe("model_not_found");
    }

    [Fact]
    public async Task Request_NamingTheServedModel_EchoesIt()
    {
        await ReadyAsync();
        var body = Chat.Body(Chat.User("hi"));
        body["model"] = FixtureCatalog.QwenThinking.RepoId;
        body["max_tokens"] = 3;

        var answer = await Chat.CompleteAsync(Http, body);

        answer["model"]!.GetValue<string>().ShouldBe(FixtureCatalog.QwenThinking.RepoId);
        answer["choices"]![0]!["finish_reason"]!.GetValue<string>().ShouldBe("length");
    }
}

/// <summary>Without parsers mlx-openai-server passes the model's raw text through: thinking stays inline and
/// tool calls arrive as markup in the content. With <c>--model-type multimodal</c> it takes images.</summary>
public sealed class OpenAiServerWithoutParsersTests : IClassFixture<ModelCache>
{
    readonly ModelCache cache;

    public OpenAiServerWithoutParsersTests(ModelCache cache) => this.cache = cache;

    async Task<EngineProcess> StartAsync(params string[] args)
    {
        var engine = EngineProcess.Start(Flavour.OpenAiServer, [.. args, "--no-log-file"], cache.Environment());
        await engine.WaitListeningAsync();
        (await EngineProcess.EventuallyAsync(() => engine.Http.GetAsync("/health").Result.IsSuccessStatusCode, TimeSpan.FromSeconds(60))).ShouldBeTrue();
        return engine;
    }

    [Fact]
    public async Task ThinkingAndToolCalls_StayInTheContent()
    {
        using var engine = await StartAsync("--model-path", FixtureCatalog.QwenThinking.RepoId);

        var thinking = await Chat.StreamAsync(engine.Http, Chat.Body(Chat.User("Tell me about bridges.")));
        var tools = await Chat.StreamAsync(engine.Http, Chat.WeatherAndCalculatorTools(Chat.Body(Chat.User("What is the weather in Paris?"))));

        thinking.Content.ShouldStartWith("<think>\n");
        thinking.Content.ShouldContain("</think>");
        thinking.Deltas.ShouldAllBe(d => !d.ContainsKey("reasoning_content"));
        tools.Content.ShouldContain("<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>");
        tools.Deltas.ShouldAllBe(d => !d.ContainsKey("tool_calls"));
        tools.FinishReason.ShouldBe("stop");
    }

    [Fact]
    public async Task Multimodal_AcceptsImages_LmRejectsThem()
    {
        using var multimodal = await StartAsync("--model-path", FixtureCatalog.GemmaVision.RepoId, "--model-type", "multimodal");
        using var text = await StartAsync("--model-path", FixtureCatalog.Phi8Bit.RepoId);
        var body = Chat.Body(new JsonObject
        {
            ["role"] = "user",
            ["content"] = new JsonArray(
                new JsonObject { ["type"] = "text", ["text"] = "What is it?" },
                new JsonObject { ["type"] = "image_url", ["image_url"] = new JsonObject { ["url"] = Media.DataUrl("image/png", Media.Png(32, 16)) } }),
        });

        var seen = await Chat.CompleteAsync(multimodal.Http, (JsonObject)body.DeepClone());
        var (status, _) = await Chat.PostAsync(text.Http, body);

        seen["choices"]![0]!["message"]!["content"]!.GetValue<string>().ShouldStartWith("[received 1 image: image/png 32x16,");
        status.ShouldBe(400);
    }
}
