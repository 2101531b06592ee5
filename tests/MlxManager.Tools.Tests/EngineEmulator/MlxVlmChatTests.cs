using System.Text.Json.Nodes;
using MlxManager.EngineEmulator;
using MlxManager.ModelFixtures;
using MlxManager.Tools.Tests.EngineEmulator.Infrastructure;

namespace MlxManager.Tools.Tests.EngineEmulator;

public sealed class MlxVlmEngineFixture : EngineFixture
{
    protected override Flavour Flavour => Flavour.MlxVlm;
    protected override IEnumerable<string> Arguments => ["--model", FixtureCatalog.QwenVision.RepoId, "--enable-thinking"];
}

/// <summary>mlx_vlm.server's completion shapes: images and videos received and described, <c>reasoning_content</c>
/// with the <c>reasoning</c> alias, fragmented tool calls, <c>timings</c> on chunks and in the usage chunk.</summary>
public sealed class MlxVlmChatTests(MlxVlmEngineFixture fixture) : IClassFixture<MlxVlmEngineFixture>
{
    HttpClient Http => fixture.Http;

    static JsonObject Body(string model, JsonNode content) => new()
    {
        ["model"] = model,
        ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = content }),
    };

    static JsonObject Text(string text) => new() { ["type"] = "text", ["text"] = text };

    [Fact]
    public async Task Image_DataUrls_AreDecodedAndDescribedInTheAnswer()
    {
        var png = Media.Png(640, 480);
        var jpeg = Media.JpegHeader(320, 200);
        var body = Body(FixtureCatalog.QwenVision.RepoId, new JsonArray(
            Text("What is in these pictures?"),
            new JsonObject { ["type"] = "image_url", ["image_url"] = new JsonObject { ["url"] = Media.DataUrl("image/png", png) } },
            new JsonObject { ["type"] = "input_image", ["image_url"] = Media.DataUrl("image/jpeg", jpeg) }));

        var stream = await Chat.StreamAsync(Http, body);

        stream.Content.ShouldStartWith($"[received 2 images: image/png 640x480, {png.Length} bytes; image/jpeg 320x200, {jpeg.Length} bytes]");
        stream.Done.ShouldBeTrue();
    }

    [Fact]
    public async Task Video_AsStringOrObject_IsReported()
    {
        var video = Enumerable.Range(0, 2048).Select(i => (byte)i).ToArray();
        var url = Media.DataUrl("video/mp4", video);
        var body = Body(FixtureCatalog.QwenVision.RepoId, new JsonArray(
            Text("Describe the clips."),
            new JsonObject { ["type"] = "video_url", ["video_url"] = url },
            new JsonObject { ["type"] = "video_url", ["video_url"] = new JsonObject { ["url"] = url } }));
        body["max_tokens"] = 40;

        var answer = await Chat.CompleteAsync(Http, body);

        answer["choices"]![0]!["message"]!["content"]!.GetValue<string>()
            .ShouldStartWith("[received 2 videos: video/mp4, 2048 bytes; video/mp4, 2048 bytes]");
        answer["usage"]!["prompt_tokens"]!.GetValue<int>().ShouldBeGreaterThan(2048);
    }

    [Fact]
    public async Task Image_ToAModelWithoutVisionConfig_IsRejected()
    {
        var body = Body(FixtureCatalog.Phi8Bit.RepoId, new JsonArray(
            Text("What is this?"),
            new JsonObject { ["type"] = "image_url", ["image_url"] = new JsonObject { ["url"] = Media.DataUrl("image/png", Media.Png(8, 8)) } }));

        var (status, text) = await Chat.PostAsync(Http, body);

        status.ShouldBe(400);
        JsonNode.Parse(text)!["detail"]!.GetValue<string>().ShouldContain("image and video inputs are not supported");
    }

    [Fact]
    public async Task Stream_ThinkingModel_SendsReasoningContentWithTheReasoningAlias()
    {
        var stream = await Chat.StreamAsync(Http, Body(FixtureCatalog.QwenThinking.RepoId, JsonValue.Create("Tell me about stones.")));

        var reasoning = stream.Deltas.Where(d => d["reasoning_content"] is not null).ToList();
        reasoning.ShouldNotBeEmpty();
        reasoning.ShouldAllBe(d => d["reasoning"]!.GetValue<string>() == d["reasoning_content"]!.GetValue<string>());
        stream.Content.ShouldNotBeEmpty();
        stream.Content.ShouldNotContain("think>");
    }

    [Fact]
    public async Task Stream_RequestDisablesThinking()
    {
        var body = Body(FixtureCatalog.QwenThinking.RepoId, JsonValue.Create("Tell me about stones."));
        body["enable_thinking"] = false;

        var stream = await Chat.StreamAsync(Http, body);

        stream.Deltas.ShouldAllBe(d => d["reasoning_content"] == null);
    }

    [Fact]
    public async Task Stream_ToolCalls_AreFragmentedAndJoinByIndex()
    {
        var body = Chat.WeatherAndCalculatorTools(Body(FixtureCatalog.QwenVision.RepoId, JsonValue.Create("What is the weather in Rome and what is 6*7?")));

        var stream = await Chat.StreamAsync(Http, body);

        var fragments = stream.Deltas.Where(d => d["tool_calls"] is JsonArray).Select(d => d["tool_calls"]![0]!.AsObject()).ToList();
        var byIndex = fragments.GroupBy(f => f["index"]!.GetValue<int>()).ToDictionary(g => g.Key, g => g.ToList());
        byIndex.Keys.ShouldBe([0, 1]);
        foreach (var (_, parts) in byIndex)
        {
            parts.Count.ShouldBeGreaterThan(2);
            parts[0]["id"]!.GetValue<string>().ShouldNotBeNullOrEmpty();
            parts[0]["type"]!.GetValue<string>().ShouldBe("function");
            parts.Skip(1).ShouldAllBe(p => !p.ContainsKey("id") && p["function"]!.AsObject().Count == 1);
        }
        string Arguments(int index) => string.Concat(byIndex[index].Select(p => p["function"]!["arguments"]!.GetValue<string>()));
        byIndex[0][0]["function"]!["name"]!.GetValue<string>().ShouldBe("get_weather");
        JsonNode.Parse(Arguments(0))!["city"]!.GetValue<string>().ShouldBe("Rome");
        JsonNode.Parse(Arguments(1))!["expression"]!.GetValue<string>().ShouldBe("6*7");
        stream.FinishReason.ShouldBe("tool_calls");
    }

    [Fact]
    public async Task Stream_ChunksCarryTimings_AndTheUsageChunkFullTimings()
    {
        var body = Body(FixtureCatalog.QwenVision.RepoId, JsonValue.Create("How fast are you?"));
        body["stream_options"] = new JsonObject { ["include_usage"] = true };

        var stream = await Chat.StreamAsync(Http, body);

        var chunks = stream.Chunks;
        chunks.ShouldAllBe(c => c["timings"] is JsonObject);
        chunks.Skip(2).Take(3).ShouldAllBe(c => c["timings"]!["predicted_per_second"]!.GetValue<double>() > 0);
        var usage = chunks[^1];
        usage["choices"]!.AsArray().ShouldBeEmpty();
        var timings = usage["timings"]!.AsObject();
        foreach (var key in new[] { "prompt_n", "predicted_n", "prompt_per_second", "predicted_per_second", "peak_memory" })
            timings.ContainsKey(key).ShouldBeTrue(key);
        timings["predicted_n"]!.GetValue<int>().ShouldBe(usage["usage"]!["completion_tokens"]!.GetValue<int>());
        timings["peak_memory"]!.GetValue<double>().ShouldBeGreaterThan(0);
    }

    [Fact]
    public async Task Request_WithoutModel_Is422()
    {
        var (status, text) = await Chat.PostAsync(Http, Chat.Body(Chat.User("hi")));

        status.ShouldBe(422);
        text.ShouldContain("\"loc\":[\"body\",\"model\"]");
    }

    [Fact]
    public async Task NonStream_IsCompactPydanticJsonWithAllFields()
    {
        var body = Body(FixtureCatalog.QwenVision.RepoId, JsonValue.Create("Hi"));
        body["stream"] = false;

        var (status, text) = await Chat.PostAsync(Http, body);

        status.ShouldBe(200);
        text.ShouldContain("\"tool_calls\":null,\"tool_call_id\":null,\"name\":null},\"logprobs\":null}]");
        text.ShouldNotContain("\": ");
    }
}
