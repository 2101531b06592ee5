using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using MlxManager.Core.Chat;

namespace MlxManager.Core.Tests.Chat;

/// <summary>
/// The tool loop end to end: a real loopback HTTP "engine" answering with scripted SSE, the real request builder,
/// stream reader and engine client, and the built-in tools behind a real MCP server.
/// </summary>
public class ToolLoopTests
{
    private static readonly ChatStreamReader Reader = new(NullLogger<ChatStreamReader>.Instance);

    [Fact]
    public async Task WholeToolCalls_AreExecutedThroughMcp_AndTheResultsGoBackWithoutThinking()
    {
        await using var mcp = await InProcessMcpServer.StartAsync();
        await using var engine = new ScriptedEngine((i, _) => i switch
        {
            0 => new EngineReply([
                ": keepalive 64/128\n\n",
                ScriptedEngine.Chunk("""{"content":"","reasoning":"Weather and a product needed. PRIVATE-THOUGHT","tool_calls":[]}"""),
                ScriptedEngine.WholeToolCall(0, "call-w", "get_weather", """{"location": "Paris"}"""),
                ScriptedEngine.WholeToolCall(1, "call-c", "calculate", """{"expression": "17 * 23"}"""),
                ScriptedEngine.Chunk("""{"content":""}""", "tool_calls"),
                ScriptedEngine.Done,
            ]),
            _ => new EngineReply([ScriptedEngine.Content("It is mild in Paris; 17 × 23 = 391.", "stop"), ScriptedEngine.Done]),
        });

        var events = await RunTurnAsync(engine, new McpToolExecutor([mcp.Client], NullLogger<McpToolExecutor>.Instance), "Weather in Paris and 17*23?");

        events.OfType<ToolExecutionStarted>().Select(e => e.Call.Name).ShouldBe(["get_weather", "calculate"]);
        var finished = events.OfType<ToolExecutionFinished>().ToList();
        finished.ShouldAllBe(f => !f.Result.IsError);
        finished[1].Result.Content.ShouldBe("391");
        finished[0].Result.Content.ShouldContain("\"location\":\"Paris\"");

        var completed = events.OfType<MessageCompleted>().Select(m => m.Message).ToList();
        completed.Select(m => m.GetType().Name).ShouldBe(["AssistantMessage", "ToolResultMessage", "ToolResultMessage", "AssistantMessage"]);
        ((AssistantMessage)completed[0]).Reasoning.ShouldBe("Weather and a product needed. PRIVATE-THOUGHT");
        ((AssistantMessage)completed[3]).Content.ShouldBe("It is mild in Paris; 17 × 23 = 391.");
        events[^1].ShouldBe(new TurnEnded(TurnOutcome.Answered, null));

        engine.Requests.Count.ShouldBe(2);
        engine.RequestsHadContentLength.ShouldAllBe(hadLength => hadLength);
        var second = engine.Requests[1].RootElement;
        second.GetRawText().ShouldNotContain("PRIVATE-THOUGHT");
        var roles = second.GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("role").GetString()).ToList();
        roles.ShouldBe(["user", "assistant", "tool", "tool"]);
        var messages = second.GetProperty("messages");
        messages[1].GetProperty("tool_calls").GetArrayLength().ShouldBe(2);
        messages[2].GetProperty("tool_call_id").GetString().ShouldBe("call-w");
        messages[3].GetProperty("tool_call_id").GetString().ShouldBe("call-c");
        messages[3].GetProperty("content").GetString().ShouldBe("391");
        second.GetProperty("tools").GetArrayLength().ShouldBe(2);
    }

    [Fact]
    public async Task FragmentedToolCallsWithoutIdsOnLaterFragments_AreJoinedAndExecuted()
    {
        await using var mcp = await InProcessMcpServer.StartAsync();
        await using var engine = new ScriptedEngine((i, _) => i switch
        {
            0 => new EngineReply([
                ScriptedEngine.Chunk("""{"role":"assistant","reasoning_content":"Two calls."}"""),
                ScriptedEngine.Chunk("""{"tool_calls":[{"index":0,"id":"call_x","type":"function","function":{"name":"calculate","arguments":""}}]}"""),
                ScriptedEngine.Chunk("""{"tool_calls":[{"index":0,"function":{"arguments":"{\"expression\": \"2"}}]}"""),
                ScriptedEngine.Chunk("""{"tool_calls":[{"index":0,"function":{"arguments":"^10\"}"}}]}"""),
                ScriptedEngine.Chunk("""{"tool_calls":[{"index":1,"type":"function","function":{"name":"calculate","arguments":"{\"expression\""}}]}"""),
                ScriptedEngine.Chunk("""{"tool_calls":[{"index":1,"function":{"arguments":": \"3*3\"}"}}]}"""),
                ScriptedEngine.Chunk("{}", "tool_calls"),
                ScriptedEngine.Done,
            ]),
            _ => new EngineReply([ScriptedEngine.Content("1024 and 9.", "stop"), ScriptedEngine.Done]),
        });

        var events = await RunTurnAsync(engine, new McpToolExecutor([mcp.Client], NullLogger<McpToolExecutor>.Instance), "2^10 and 3*3?");

        var finished = events.OfType<ToolExecutionFinished>().ToList();
        finished.Select(f => f.Result.Content).ShouldBe(["1024", "9"]);
        finished[0].Call.Id.ShouldBe("call_x");
        finished[1].Call.Id.ShouldNotBeNullOrWhiteSpace(); // the engine sent none: one is generated, and used for the result
        var messages = engine.Requests[1].RootElement.GetProperty("messages");
        messages[1].GetProperty("tool_calls")[1].GetProperty("id").GetString().ShouldBe(finished[1].Call.Id);
        messages[3].GetProperty("tool_call_id").GetString().ShouldBe(finished[1].Call.Id);
        events[^1].ShouldBe(new TurnEnded(TurnOutcome.Answered, null));
    }

    [Fact]
    public async Task ToolError_IsSentBackToTheModelAsAToolMessage_AndTheTurnGoesOn()
    {
        await using var mcp = await InProcessMcpServer.StartAsync();
        await using var engine = new ScriptedEngine((i, _) => i switch
        {
            0 => new EngineReply([
                ScriptedEngine.WholeToolCall(0, "c0", "calculate", """{"expression": "1/0"}"""),
                ScriptedEngine.Chunk("""{"content":""}""", "tool_calls"),
                ScriptedEngine.Done,
            ]),
            _ => new EngineReply([ScriptedEngine.Content("Dividing by zero is undefined.", "stop"), ScriptedEngine.Done]),
        });

        var events = await RunTurnAsync(engine, new McpToolExecutor([mcp.Client], NullLogger<McpToolExecutor>.Instance), "1/0?");

        var result = events.OfType<ToolExecutionFinished>().ShouldHaveSingleItem().Result;
        result.IsError.ShouldBeTrue();
        result.Content.ShouldContain("Division by zero");
        var toolMessage = events.OfType<MessageCompleted>().Select(m => m.Message).OfType<ToolResultMessage>().ShouldHaveSingleItem();
        toolMessage.IsError.ShouldBeTrue();
        var sent = engine.Requests[1].RootElement.GetProperty("messages")[2];
        sent.GetProperty("role").GetString().ShouldBe("tool");
        sent.GetProperty("content").GetString()!.ShouldStartWith("Error:");
        sent.GetProperty("content").GetString()!.ShouldContain("Division by zero");
        events[^1].ShouldBe(new TurnEnded(TurnOutcome.Answered, null));
    }

    [Fact]
    public async Task RoundLimit_StopsExecuting_AnswersTheCallsWithAnError_AndAsksForAnAnswerWithoutTools()
    {
        await using var mcp = await InProcessMcpServer.StartAsync();
        await using var engine = new ScriptedEngine((i, request) => request.TryGetProperty("tools", out _)
            ? new EngineReply([
                ScriptedEngine.WholeToolCall(0, $"c{i}", "calculate", $$"""{"expression": "{{i}} + 1"}"""),
                ScriptedEngine.Chunk("""{"content":""}""", "tool_calls"),
                ScriptedEngine.Done,
            ])
            : new EngineReply([ScriptedEngine.Content("I'll stop calling tools now.", "stop"), ScriptedEngine.Done]));

        var events = await RunTurnAsync(engine, new McpToolExecutor([mcp.Client], NullLogger<McpToolExecutor>.Instance), "loop", maxToolRounds: 2);

        events.OfType<ToolExecutionStarted>().Count().ShouldBe(2);
        events.OfType<ToolRoundLimitReached>().ShouldHaveSingleItem().Limit.ShouldBe(2);
        var refused = events.OfType<ToolExecutionFinished>().Last().Result;
        refused.IsError.ShouldBeTrue();
        refused.Content.ShouldContain("limit of 2 tool rounds");
        engine.Requests.Count.ShouldBe(4);
        engine.Requests.Take(3).Select(HasTools).ShouldAllBe(hasTools => hasTools);
        engine.Requests[3].RootElement.TryGetProperty("tools", out _).ShouldBeFalse();
        events.OfType<AssistantRoundStarted>().Select(r => r.ToolsOffered).ShouldBe([true, true, true, false]);
        ((AssistantMessage)events.OfType<MessageCompleted>().Last().Message).Content.ShouldBe("I'll stop calling tools now.");
        events[^1].ShouldBe(new TurnEnded(TurnOutcome.Answered, null));
    }

    [Fact]
    public async Task RoundLimit_ModelThatKeepsCallingWithoutTools_EndsTheTurnInsteadOfLooping()
    {
        await using var mcp = await InProcessMcpServer.StartAsync();
        await using var engine = new ScriptedEngine((i, _) => new EngineReply([
            ScriptedEngine.WholeToolCall(0, $"c{i}", "calculate", """{"expression": "1"}"""),
            ScriptedEngine.Chunk("""{"content":""}""", "tool_calls"),
            ScriptedEngine.Done,
        ]));

        var events = await RunTurnAsync(engine, new McpToolExecutor([mcp.Client], NullLogger<McpToolExecutor>.Instance), "loop", maxToolRounds: 1);

        engine.Requests.Count.ShouldBe(3);
        events[^1].ShouldBeOfType<TurnEnded>().Outcome.ShouldBe(TurnOutcome.RoundLimitReached);
        var history = events.OfType<MessageCompleted>().Select(m => m.Message).ToList();
        history.OfType<AssistantMessage>().Count().ShouldBe(3);
        history.OfType<ToolResultMessage>().Count().ShouldBe(3); // every call answered: the history stays valid
    }

    [Fact]
    public async Task ToolsSwitchedOff_CallsAreAnsweredWithAnError_AndTheModelAnswers()
    {
        await using var engine = new ScriptedEngine((i, _) => i == 0
            ? new EngineReply([ScriptedEngine.WholeToolCall(0, "c", "get_weather", """{"location":"Oslo"}"""), ScriptedEngine.Chunk("{}", "tool_calls"), ScriptedEngine.Done])
            : new EngineReply([ScriptedEngine.Content("No tools, sorry.", "stop"), ScriptedEngine.Done]));

        var events = await RunTurnAsync(engine, tools: null, "weather?");

        events.OfType<ToolExecutionStarted>().ShouldBeEmpty();
        events.OfType<ToolExecutionFinished>().ShouldHaveSingleItem().Result.Content.ShouldContain("switched off");
        engine.Requests.Select(HasTools).ShouldAllBe(hasTools => !hasTools);
        events[^1].ShouldBe(new TurnEnded(TurnOutcome.Answered, null));
    }

    [Fact]
    public async Task EngineCrashMidAnswer_KeepsThePartialAnswer_MarkedIncomplete()
    {
        await using var engine = new ScriptedEngine((_, _) => new EngineReply(
            [ScriptedEngine.Content("The first half of the answer"), ScriptedEngine.Content(" and a bit more")],
            AbortAfterPieces: true));

        var events = await RunTurnAsync(engine, tools: null, "tell me");

        var completed = events.OfType<MessageCompleted>().ShouldHaveSingleItem();
        ((AssistantMessage)completed.Message).Content.ShouldBe("The first half of the answer and a bit more");
        completed.Incomplete.ShouldBeTrue();
        events.OfType<EngineError>().ShouldNotBeEmpty();
        var end = events[^1].ShouldBeOfType<TurnEnded>();
        end.Outcome.ShouldBe(TurnOutcome.Failed);
        end.Error.ShouldNotBeNullOrWhiteSpace();
    }

    [Fact]
    public async Task EngineErrorStatus_IsReportedWithTheEnginesMessage()
    {
        await using var engine = new ScriptedEngine((_, _) => new EngineReply(
            ["""{"error": "Prompt exceeds max prompt token limit: prompt_tokens=9000, max_prompt_tokens=8192"}"""],
            Status: 500, ContentType: "application/json"));

        var events = await RunTurnAsync(engine, tools: null, "long prompt");

        var error = events.OfType<EngineError>().ShouldHaveSingleItem();
        error.StatusCode.ShouldBe(500);
        error.Message.ShouldContain("max_prompt_tokens=8192");
        events[^1].ShouldBeOfType<TurnEnded>().Outcome.ShouldBe(TurnOutcome.Failed);
    }

    [Fact]
    public async Task UnreachableEngine_FailsTheTurnWithAClearMessage()
    {
        Uri url;
        await using (var engine = new ScriptedEngine((_, _) => new EngineReply([])))
        {
            url = engine.ChatCompletionsUrl;
        }

        using var http = new HttpClient();
        var client = new EngineChatClient(http, Reader, NullLogger<EngineChatClient>.Instance);
        var loop = new ToolLoop(null, TimeProvider.System, NullLogger<ToolLoop>.Instance);
        var events = await loop.RunAsync(
            [new UserMessage("hi")],
            (round, ct) => client.StreamAsync(url, ChatRequestBuilder.Build(round.Messages, new ChatRequestOptions { Model = "m" }), ThinkingStart.InAnswer, ct),
            new ToolLoopOptions()).ToListAsync(TestTimeout.Token);

        events.OfType<EngineError>().ShouldHaveSingleItem().Message.ShouldContain("could not be reached");
        events[^1].ShouldBeOfType<TurnEnded>().Outcome.ShouldBe(TurnOutcome.Failed);
    }

    [Fact]
    public async Task Stop_CancelsTheStream_KeepsThePartialAnswer_AndEndsTheTurnAsStopped()
    {
        await using var engine = new ScriptedEngine((_, _) => new EngineReply(
            [ScriptedEngine.Content("Once upon a time")],
            HangAfterPieces: TimeSpan.FromSeconds(30)));
        using var stop = new CancellationTokenSource();
        using var http = new HttpClient();
        var client = new EngineChatClient(http, Reader, NullLogger<EngineChatClient>.Instance);
        var loop = new ToolLoop(null, TimeProvider.System, NullLogger<ToolLoop>.Instance);

        var events = new List<ChatStreamEvent>();
        await foreach (var e in loop.RunAsync(
            [new UserMessage("story")],
            (round, ct) => client.StreamAsync(engine.ChatCompletionsUrl, ChatRequestBuilder.Build(round.Messages, new ChatRequestOptions { Model = "m" }), ThinkingStart.InAnswer, ct),
            new ToolLoopOptions(),
            stop.Token))
        {
            events.Add(e);
            if (e is ContentDelta)
            {
                await stop.CancelAsync(); // the user presses Stop while the engine is still generating
            }
        }

        var completed = events.OfType<MessageCompleted>().ShouldHaveSingleItem();
        ((AssistantMessage)completed.Message).Content.ShouldBe("Once upon a time");
        completed.Incomplete.ShouldBeTrue();
        events[^1].ShouldBe(new TurnEnded(TurnOutcome.Stopped, null));
    }

    [Fact]
    public async Task AnswerMetrics_AreAttachedToTheAssistantMessage()
    {
        await using var engine = new ScriptedEngine((_, _) => new EngineReply([
            ScriptedEngine.Content("a"), ScriptedEngine.Content("b"),
            ScriptedEngine.Chunk("{}", "stop"),
            """data: {"choices":[],"usage":{"prompt_tokens":10,"completion_tokens":2,"total_tokens":12}}""" + "\n\n",
            ScriptedEngine.Done,
        ]));

        var events = await RunTurnAsync(engine, tools: null, "ab");

        var metrics = events.OfType<MessageCompleted>().ShouldHaveSingleItem().Metrics.ShouldNotBeNull();
        metrics.PromptTokens.ShouldBe(10);
        metrics.CompletionTokens.ShouldBe(2);
        metrics.TokensEstimated.ShouldBeFalse();
        metrics.TimeToFirstToken.ShouldNotBeNull();
    }

    private static bool HasTools(JsonDocument request) => request.RootElement.TryGetProperty("tools", out _);

    private static async Task<List<ChatStreamEvent>> RunTurnAsync(ScriptedEngine engine, IToolExecutor? tools, string userText, int maxToolRounds = 5)
    {
        using var http = new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
        var client = new EngineChatClient(http, Reader, NullLogger<EngineChatClient>.Instance);
        var definitions = tools is null ? null : await tools.ListToolsAsync(TestTimeout.Token);
        var loop = new ToolLoop(tools, TimeProvider.System, NullLogger<ToolLoop>.Instance);

        IAsyncEnumerable<ChatStreamEvent> Stream(CompletionRound round, CancellationToken ct)
        {
            var options = new ChatRequestOptions { Model = "mlx-community/Qwen3-4B-4bit", Tools = round.OfferTools ? definitions : null };
            return client.StreamAsync(engine.ChatCompletionsUrl, ChatRequestBuilder.Build(round.Messages, options), ThinkingStart.InAnswer, ct);
        }

        return await loop.RunAsync([new UserMessage(userText)], Stream, new ToolLoopOptions { MaxToolRounds = maxToolRounds })
            .ToListAsync(TestTimeout.Token);
    }
}
