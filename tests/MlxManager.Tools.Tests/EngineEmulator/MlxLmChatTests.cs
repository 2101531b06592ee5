using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using MlxManager.EngineEmulator;
using MlxManager.ModelFixtures;
using MlxManager.Tools.Tests.EngineEmulator.Infrastructure;

namespace MlxManager.Tools.Tests.EngineEmulator;

public sealed class MlxLmEngineFixture : EngineFixture
{
    protected override Flavour Flavour => Flavour.MlxLm;
    protected override IEnumerable<string> Arguments => ["--model", FixtureCatalog.QwenThinking.RepoId, "--prefill-step-size", "32"];
}

/// <summary>mlx_lm.server's completion shapes (engines.md): <c>delta.reasoning</c>, whole tool calls one per
/// chunk, keepalive comments, usage after the finish chunk, max_tokens and stop, 411, no image input, and the
/// request's <c>model</c> loaded on demand.</summary>
public sealed class MlxLmChatTests(MlxLmEngineFixture fixture) : IClassFixture<MlxLmEngineFixture>
{
    HttpClient Http => fixture.Http;

    static JsonObject Body(string text, string? model = null)
    {
        var body = Chat.Body(Chat.User(text));
        if (model is not null) body["model"] = model;
        return body;
    }

    [Fact]
    public async Task Stream_ThinkingModel_SendsDeltaReasoningThenContent()
    {
        var stream = await Chat.StreamAsync(Http, Body("Tell me about rivers."));

        stream.Status.ShouldBe(200);
        stream.Done.ShouldBeTrue();
        var reasoning = stream.Deltas.Where(d => d.ContainsKey("reasoning")).ToList();
        reasoning.ShouldNotBeEmpty();
        stream.Deltas.ShouldAllBe(d => !d.ContainsKey("reasoning_content"));
        stream.Deltas.ShouldAllBe(d => d["role"]!.GetValue<string>() == "assistant");
        var deltas = stream.Deltas.ToList();
        deltas.IndexOf(reasoning[^1]).ShouldBeLessThan(deltas.FindIndex(d => d.ContainsKey("content")));
        stream.Content.ShouldNotContain("<think>");
        stream.FinishReason.ShouldBe("stop");
        var first = stream.Chunks[0];
        first["object"]!.GetValue<string>().ShouldBe("chat.completion.chunk");
        first["id"]!.GetValue<string>().ShouldStartWith("chatcmpl-");
        first["system_fingerprint"]!.GetValue<string>().ShouldNotBeNullOrEmpty();
        first["model"]!.GetValue<string>().ShouldBe("default_model");
    }

    [Fact]
    public async Task Stream_ThinkingDisabledByTheRequest_SendsNoReasoning()
    {
        var body = Body("Tell me about rivers.");
        body["chat_template_kwargs"] = new JsonObject { ["enable_thinking"] = false };

        var stream = await Chat.StreamAsync(Http, body);

        stream.Deltas.ShouldAllBe(d => !d.ContainsKey("reasoning"));
        stream.Content.ShouldNotBeEmpty();
    }

    [Fact]
    public async Task Answer_IsDeterministicForTheSameConversation()
    {
        var first = await Chat.CompleteAsync(Http, Body("Same question twice?"));
        var second = await Chat.CompleteAsync(Http, Body("Same question twice?"));
        var other = await Chat.CompleteAsync(Http, Body("A different question?"));

        var text = first["choices"]![0]!["message"]!["content"]!.GetValue<string>();
        second["choices"]![0]!["message"]!["content"]!.GetValue<string>().ShouldBe(text);
        other["choices"]![0]!["message"]!["content"]!.GetValue<string>().ShouldNotBe(text);
    }

    [Fact]
    public async Task Stream_WeatherAndArithmetic_TwoWholeToolCallsOnePerChunk()
    {
        var stream = await Chat.StreamAsync(Http, Chat.WeatherAndCalculatorTools(Body("What is the weather in Paris and what is 12*7?")));

        var callChunks = stream.Deltas.Where(d => d.ContainsKey("tool_calls")).ToList();
        callChunks.Count.ShouldBe(2);
        var calls = callChunks.Select(d => d["tool_calls"]!.AsArray().ShouldHaveSingleItem()!.AsObject()).ToList();
        calls.Select(c => c["index"]!.GetValue<int>()).ShouldBe([0, 1]);
        calls.ShouldAllBe(c => c["type"]!.GetValue<string>() == "function" && c["id"]!.GetValue<string>().Length > 0);
        calls[0]["function"]!["name"]!.GetValue<string>().ShouldBe("get_weather");
        JsonNode.Parse(calls[0]["function"]!["arguments"]!.GetValue<string>())!["city"]!.GetValue<string>().ShouldBe("Paris");
        calls[1]["function"]!["name"]!.GetValue<string>().ShouldBe("calculator");
        JsonNode.Parse(calls[1]["function"]!["arguments"]!.GetValue<string>())!["expression"]!.GetValue<string>().ShouldBe("12*7");
        stream.FinishReason.ShouldBe("tool_calls");
    }

    [Fact]
    public async Task NonStream_ToolCall_IsInTheMessage()
    {
        var body = Chat.WeatherAndCalculatorTools(Body("weather in Oslo?"));
        body["chat_template_kwargs"] = new JsonObject { ["enable_thinking"] = false };

        var answer = await Chat.CompleteAsync(Http, body);

        var choice = answer["choices"]![0]!;
        choice["finish_reason"]!.GetValue<string>().ShouldBe("tool_calls");
        var call = choice["message"]!["tool_calls"]!.AsArray().ShouldHaveSingleItem()!;
        call["function"]!["name"]!.GetValue<string>().ShouldBe("get_weather");
        call.AsObject().ContainsKey("index").ShouldBeFalse();
        choice["message"]!["content"].ShouldBeNull();
    }

    [Fact]
    public async Task AfterToolMessages_TheAnswerQuotesTheResults()
    {
        var body = Chat.WeatherAndCalculatorTools(Chat.Body(
            Chat.User("What is the weather in Paris?"),
            new JsonObject
            {
                ["role"] = "assistant",
                ["content"] = "",
                ["tool_calls"] = new JsonArray(new JsonObject
                {
                    ["id"] = "call_1", ["type"] = "function",
                    ["function"] = new JsonObject { ["name"] = "get_weather", ["arguments"] = "{\"city\": \"Paris\"}" },
                }),
            },
            new JsonObject { ["role"] = "tool", ["tool_call_id"] = "call_1", ["content"] = "Sunny, 21 C" }));

        var stream = await Chat.StreamAsync(Http, body);

        stream.Content.ShouldContain("The get_weather tool returned: \"Sunny, 21 C\".");
        stream.Deltas.ShouldAllBe(d => !d.ContainsKey("tool_calls"));
        stream.FinishReason.ShouldBe("stop");
    }

    [Fact]
    public async Task Stream_IncludeUsage_SendsTheUsageChunkAfterTheFinishChunk()
    {
        var body = Body("Count the stones.");
        body["stream_options"] = new JsonObject { ["include_usage"] = true };
        body["max_tokens"] = 8;

        var stream = await Chat.StreamAsync(Http, body);

        var chunks = stream.Chunks;
        var usage = chunks[^1];
        usage["object"]!.GetValue<string>().ShouldBe("chat.completion");
        usage["choices"]!.AsArray().ShouldBeEmpty();
        usage["usage"]!["completion_tokens"]!.GetValue<int>().ShouldBe(8);
        usage["usage"]!["total_tokens"]!.GetValue<int>().ShouldBe(usage["usage"]!["prompt_tokens"]!.GetValue<int>() + 8);
        usage["usage"]!["prompt_tokens_details"]!["cached_tokens"].ShouldNotBeNull();
        chunks[^2]["choices"]![0]!["finish_reason"]!.GetValue<string>().ShouldBe("length");
        stream.Lines[^1].ShouldBe("data: [DONE]");
    }

    [Fact]
    public async Task Stream_WithoutIncludeUsage_HasNoUsageChunk()
    {
        var stream = await Chat.StreamAsync(Http, Body("No usage please."));

        stream.Chunks.ShouldAllBe(c => !c.ContainsKey("usage"));
    }

    [Fact]
    public async Task MaxCompletionTokens_WinsOverMaxTokens_AndCutsWithLength()
    {
        var body = Body("[[tokens:50]]");
        body["max_tokens"] = 40;
        body["max_completion_tokens"] = 5;
        body["chat_template_kwargs"] = new JsonObject { ["enable_thinking"] = false };

        var answer = await Chat.CompleteAsync(Http, body);

        answer["choices"]![0]!["finish_reason"]!.GetValue<string>().ShouldBe("length");
        answer["usage"]!["completion_tokens"]!.GetValue<int>().ShouldBe(5);
    }

    [Fact]
    public async Task DefaultMaxTokens_Is512_SoLongAnswersAreCut()
    {
        var body = Body("[[tokens:600]]");
        body["chat_template_kwargs"] = new JsonObject { ["enable_thinking"] = false };

        var answer = await Chat.CompleteAsync(Http, body);

        answer["choices"]![0]!["finish_reason"]!.GetValue<string>().ShouldBe("length");
        answer["usage"]!["completion_tokens"]!.GetValue<int>().ShouldBe(512);
    }

    [Fact]
    public async Task TokensMagic_ProducesExactlyThatManyContentTokens()
    {
        var body = Body("[[tokens:7]]");
        body["chat_template_kwargs"] = new JsonObject { ["enable_thinking"] = false };

        var stream = await Chat.StreamAsync(Http, body);

        stream.Deltas.Count(d => d.ContainsKey("content")).ShouldBe(7);
        stream.FinishReason.ShouldBe("stop");
    }

    [Fact]
    public async Task Stop_EndsTheAnswerBeforeTheStopString()
    {
        var body = Body("[[echo]] please");
        body["chat_template_kwargs"] = new JsonObject { ["enable_thinking"] = false };
        body["stop"] = "\"messages\"";

        var answer = await Chat.CompleteAsync(Http, body);

        var content = answer["choices"]![0]!["message"]!["content"]!.GetValue<string>();
        content.ShouldStartWith("{\"engine\":\"mlx_lm.server\"");
        content.ShouldNotContain("\"messages\"");
        answer["choices"]![0]!["finish_reason"]!.GetValue<string>().ShouldBe("stop");
    }

    [Fact]
    public async Task Stream_KeepaliveCommentsReportPrefillProgressBeforeTheFirstToken()
    {
        var stream = await Chat.StreamAsync(Http, Body(string.Join(' ', Enumerable.Repeat("a longer prompt with many words", 20))));

        var comments = stream.Comments;
        comments.Count.ShouldBeGreaterThan(3);
        comments.ShouldAllBe(c => c.StartsWith(": keepalive ", StringComparison.Ordinal));
        var progress = comments.Select(c => c[": keepalive ".Length..].Split('/').Select(int.Parse).ToArray()).ToList();
        var total = progress[0][1];
        progress.Select(p => p[0]).ShouldBe(ComputeExpectedCheckpoints(total, 32));
        progress.ShouldAllBe(p => p[1] == total);
        stream.Lines.ToList().FindLastIndex(l => l.StartsWith(':')).ShouldBeLessThan(stream.Lines.ToList().FindIndex(l => l.StartsWith("data:")));
    }

    /// <summary>mlx_lm's generate_step: 0, then one prefill step at a time up to total-1, then total.</summary>
    static List<int> ComputeExpectedCheckpoints(int total, int step)
    {
        var points = new List<int> { 0 };
        int done = 0;
        while (total - done > 1)
        {
            done += Math.Min(step, total - done - 1);
            points.Add(done);
        }
        points.Add(total);
        return points;
    }

    [Fact]
    public async Task Post_WithoutContentLength_Is411()
    {
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, fixture.Engine.Port);
        using var stream = client.GetStream();
        var json = Chat.Body(Chat.User("hi")).ToJsonString();
        var request = $"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n{json.Length:x}\r\n{json}\r\n0\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request));

        var buffer = new byte[4096];
        var read = await stream.ReadAsync(buffer);
        var response = Encoding.UTF8.GetString(buffer, 0, read);

        response.ShouldStartWith("HTTP/1.1 411 ");
        response.ShouldContain("{\"error\": \"Content-Length header is required\"}");
    }

    [Fact]
    public async Task ImageContent_IsRejected()
    {
        var body = Chat.Body(new JsonObject
        {
            ["role"] = "user",
            ["content"] = new JsonArray(
                new JsonObject { ["type"] = "text", ["text"] = "What is this?" },
                new JsonObject { ["type"] = "image_url", ["image_url"] = new JsonObject { ["url"] = Media.DataUrl("image/png", Media.Png(4, 4)) } }),
        });

        var (status, text) = await Chat.PostAsync(Http, body);

        // The real server turns the ValueError from its generation thread into this response.
        status.ShouldBe(404);
        text.ShouldBe("{\"error\": \"Only 'text' content type is supported.\"}");
    }

    [Fact]
    public async Task Model_AnotherCachedRepo_IsLoadedOnDemandInPlaceOfTheStartupModel()
    {
        var body = Body("[[echo]]", FixtureCatalog.Phi8Bit.RepoId);

        var answer = await Chat.CompleteAsync(Http, body);
        var back = await Chat.CompleteAsync(Http, Body("[[echo]]"));

        answer["model"]!.GetValue<string>().ShouldBe(FixtureCatalog.Phi8Bit.RepoId);
        var echo = JsonNode.Parse(answer["choices"]![0]!["message"]!["content"]!.GetValue<string>())!;
        echo["loaded_model"]!.GetValue<string>().ShouldBe(FixtureCatalog.Phi8Bit.RepoId);
        JsonNode.Parse(back["choices"]![0]!["message"]!["content"]!.GetValue<string>())!["loaded_model"]!.GetValue<string>().ShouldBe(FixtureCatalog.QwenThinking.RepoId);
        await fixture.Engine.WaitForOutputAsync($"Fetching ");
    }

    [Fact]
    public async Task Model_UnknownRepo_Is404WithTheHubError()
    {
        var (status, text) = await Chat.PostAsync(Http, Body("hello", "someone/never-downloaded"));

        status.ShouldBe(404);
        JsonNode.Parse(text)!["error"]!.GetValue<string>().ShouldStartWith("An error happened while trying to locate the files on the Hub");
    }

    [Fact]
    public async Task Stream_InlineThinkingModel_TagsAreSplitAcrossChunks()
    {
        var stream = await Chat.StreamAsync(Http, Body("Explain orbits.", FixtureCatalog.InlineThinking.RepoId));

        var pieces = stream.Deltas.Where(d => d.ContainsKey("content")).Select(d => d["content"]!.GetValue<string>()).ToList();
        string.Concat(pieces).ShouldStartWith("<think>\n");
        string.Concat(pieces).ShouldContain("</think>\n\n");
        pieces.ShouldNotContain(p => p.Contains("<think>") || p.Contains("</think>"));
        stream.Deltas.ShouldAllBe(d => !d.ContainsKey("reasoning"));
    }

    [Fact]
    public async Task Stream_ClosingOnlyModel_HasTheClosingTagButNoOpeningTag()
    {
        var stream = await Chat.StreamAsync(Http, Body("Explain tides.", FixtureCatalog.DeepSeekR1.RepoId));

        stream.Content.ShouldNotContain("<think>");
        stream.Content.ShouldContain("</think>");
        stream.Deltas.Select(d => d["content"]?.GetValue<string>()).ShouldNotContain("</think>");
    }

    [Fact]
    public async Task Tools_WithoutTemplateSupport_AreIgnored()
    {
        var stream = await Chat.StreamAsync(Http, Chat.WeatherAndCalculatorTools(Body("What is the weather in Paris?", FixtureCatalog.Phi8Bit.RepoId)));

        stream.Deltas.ShouldAllBe(d => !d.ContainsKey("tool_calls"));
        stream.Content.ShouldNotBeEmpty();
        stream.FinishReason.ShouldBe("stop");
        await fixture.Engine.WaitForOutputAsync("WARNING - Received tools but model does not support tool calling.");
    }

    [Fact]
    public async Task ChatCompletionsWithoutV1_IsServedToo()
    {
        using var response = await Http.PostAsync("/chat/completions", Chat.Json(Body("hi")));

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task TextCompletion_AnswersWithTextChoices()
    {
        var body = new JsonObject { ["prompt"] = "Once upon a time", ["max_tokens"] = 6 };

        using var response = await Http.PostAsync("/v1/completions", Chat.Json(body));
        var answer = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;

        answer["object"]!.GetValue<string>().ShouldBe("text_completion");
        answer["id"]!.GetValue<string>().ShouldStartWith("cmpl-");
        answer["choices"]![0]!["text"]!.GetValue<string>().ShouldNotBeEmpty();
        answer["usage"]!["completion_tokens"]!.GetValue<int>().ShouldBe(6);
    }

    [Fact]
    public async Task SecondTurn_ReusesThePromptCache()
    {
        var first = Body("Remember the harbor lantern.");
        first["chat_template_kwargs"] = new JsonObject { ["enable_thinking"] = false };
        var answer = await Chat.CompleteAsync(Http, first);
        var second = Chat.Body(
            Chat.User("Remember the harbor lantern."),
            new JsonObject { ["role"] = "assistant", ["content"] = answer["choices"]![0]!["message"]!["content"]!.GetValue<string>() },
            Chat.User("And then?"));
        second["chat_template_kwargs"] = new JsonObject { ["enable_thinking"] = false };

        var followUp = await Chat.CompleteAsync(Http, second);

        followUp["usage"]!["prompt_tokens_details"]!["cached_tokens"]!.GetValue<int>().ShouldBeGreaterThan(answer["usage"]!["prompt_tokens"]!.GetValue<int>() / 2);
    }
}
