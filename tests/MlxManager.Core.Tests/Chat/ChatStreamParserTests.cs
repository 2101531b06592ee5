using System.Text;
using MlxManager.Core.Chat;

namespace MlxManager.Core.Tests.Chat;

public class ChatStreamParserTests
{
    [Fact]
    public void MlxLm_ReasoningWholeToolCallsKeepaliveAndUsage_AreNormalised()
    {
        var events = SseTranscripts.Parse(SseTranscripts.MlxLmThinkingAndWholeToolCalls).ToList();

        events.OfType<PrefillProgress>().Select(p => (p.Done, p.Total)).ShouldBe([(512L, 2048L), (1024L, 2048L), (2048L, 2048L)]);
        string.Concat(events.OfType<ReasoningDelta>().Select(r => r.Text)).ShouldBe("The user wants the weather in Paris and a product.");
        events.OfType<ContentDelta>().ShouldBeEmpty();
        events.OfType<ToolCallStreaming>().Select(s => (s.Index, s.Name)).ShouldBe([(0, "get_weather"), (1, "calculate")]);

        var calls = events.OfType<ToolCallsCompleted>().ShouldHaveSingleItem().Calls;
        calls.Count.ShouldBe(2);
        calls[0].ShouldBe(new ToolCall("3f1c2a9e-0d7b-4a51-9a0e-1b2c3d4e5f60", "get_weather", """{"location": "Paris", "unit": "celsius"}"""));
        calls[1].ShouldBe(new ToolCall("9b8a7c6d-5e4f-4321-8fed-cba987654321", "calculate", """{"expression": "17 * 23"}"""));

        events.OfType<UsageReported>().ShouldHaveSingleItem().Usage.ShouldBe(new TokenUsage(2048, 61, 2109, 1024));
        events.OfType<Finished>().ShouldHaveSingleItem().Reason.ShouldBe("tool_calls");
        events.IndexOf(events.OfType<ToolCallsCompleted>().Single()).ShouldBeLessThan(events.IndexOf(events.OfType<Finished>().Single()));
        events[^1].ShouldBe(new StreamEnded(true));
        events.OfType<EngineError>().ShouldBeEmpty();
    }

    [Fact]
    public void MlxVlm_ReasoningContentWithDeprecatedAlias_IsNotDoubled_AndTimingsAreRead()
    {
        var events = SseTranscripts.Parse(SseTranscripts.MlxVlmReasoningContentWithTimings).ToList();
        var summary = StreamSummary.Of(events);

        summary.Reasoning.ShouldBe("The image shows a red bicycle.");
        summary.Content.ShouldBe("It is a **red bicycle** leaning on a wall. 🚲");
        summary.FinishReason.ShouldBe("stop");
        summary.Complete.ShouldBeTrue();
        events.OfType<UsageReported>().ShouldHaveSingleItem().Usage.ShouldBe(new TokenUsage(812, 17, 829, null));

        var timings = events.OfType<TimingsReported>().Select(t => t.Timings).ToList();
        timings.Count.ShouldBe(5);
        timings[0].PredictedPerSecond.ShouldBe(38.2);
        timings[^1].ShouldBe(new EngineTimings(42.1, 950.25, 812, 17, 3.21));
    }

    [Fact]
    public void MlxOpenAiServer_FragmentedToolCallsWithoutIdsOnLaterFragments_AreJoinedByIndex()
    {
        var summary = StreamSummary.Of(SseTranscripts.Parse(SseTranscripts.MlxOpenAiServerFragmentedToolCalls));

        summary.Reasoning.ShouldBe("I need the weather and a calculation.");
        summary.ToolCalls.ShouldBe(
            """call_a1:get_weather:{"location": "Tokyo", "unit": "fahrenheit"} | call_b2:calculate:{"expression": "2^10"}""");
        summary.FinishReason.ShouldBe("tool_calls");
        summary.Usage.ShouldBe(new TokenUsage(300, 48, 348, null).ToString());
        summary.Complete.ShouldBeTrue();
    }

    public static TheoryData<string> AllTranscripts => new()
    {
        nameof(SseTranscripts.MlxLmThinkingAndWholeToolCalls),
        nameof(SseTranscripts.MlxVlmReasoningContentWithTimings),
        nameof(SseTranscripts.MlxOpenAiServerFragmentedToolCalls),
        nameof(SseTranscripts.InlineThinkTagsSplitAcrossChunks),
    };

    [Theory]
    [MemberData(nameof(AllTranscripts))]
    public void Feed_SplitAtEveryBytePosition_GivesTheSameResultAsOneRead(string transcriptName)
    {
        var bytes = Encoding.UTF8.GetBytes(Transcript(transcriptName));
        var expected = StreamSummary.Of(FeedInPieces(bytes, [bytes.Length]));
        expected.Complete.ShouldBeTrue();

        for (var split = 1; split < bytes.Length; split++)
        {
            var actual = StreamSummary.Of(FeedInPieces(bytes, [split, bytes.Length - split]));
            actual.ShouldBe(expected, $"split at byte {split}");
        }
    }

    [Theory]
    [MemberData(nameof(AllTranscripts))]
    public void Feed_OneByteAtATime_GivesTheSameResultAsOneRead(string transcriptName)
    {
        var bytes = Encoding.UTF8.GetBytes(Transcript(transcriptName));
        var expected = StreamSummary.Of(FeedInPieces(bytes, [bytes.Length]));

        StreamSummary.Of(FeedInPieces(bytes, Enumerable.Repeat(1, bytes.Length).ToArray())).ShouldBe(expected);
    }

    [Fact]
    public void InlineThinkTags_SplitAcrossChunks_SeparateThinkingFromAnswer()
    {
        var summary = StreamSummary.Of(SseTranscripts.Parse(SseTranscripts.InlineThinkTagsSplitAcrossChunks));

        summary.Reasoning.ShouldBe("Count the r's: s-t-r-a-w-b-e-r-r-y. Three.");
        summary.Content.ShouldBe("There are **3** r's in \"strawberry\".");
    }

    [Fact]
    public void CrLfAndLfAndBareCr_LineEndsAreAllAccepted()
    {
        const string chunk = """data: {"choices":[{"index":0,"delta":{"content":"hi"},"finish_reason":null}]}""";
        foreach (var newline in new[] { "\n", "\r\n", "\r" })
        {
            var transcript = chunk + newline + newline + ": keepalive 1/2" + newline + newline + "data: [DONE]" + newline + newline;
            var events = SseTranscripts.Parse(transcript).ToList();
            StreamSummary.Of(events).Content.ShouldBe("hi", $"newline {newline.Replace("\r", "\\r").Replace("\n", "\\n")}");
            events.OfType<PrefillProgress>().ShouldHaveSingleItem();
            events[^1].ShouldBe(new StreamEnded(true));
        }
    }

    [Fact]
    public void ErrorPayload_InTheStream_EndsWithEngineErrorAndKeepsThePartialAnswer()
    {
        const string transcript =
            """data: {"choices":[{"index":0,"delta":{"content":"Partial answer"},"finish_reason":null}]}""" + "\n\n" +
            """data: {"error": {"message": "Metal out of memory", "type": "server_error"}}""" + "\n\n";

        var events = SseTranscripts.Parse(transcript).ToList();
        var summary = StreamSummary.Of(events);

        summary.Content.ShouldBe("Partial answer");
        summary.Error.ShouldBe("Metal out of memory");
        summary.Complete.ShouldBeFalse();
        events.OfType<EngineError>().ShouldHaveSingleItem();
        events[^1].ShouldBe(new StreamEnded(false));
    }

    [Fact]
    public void PlainStringError_AsMlxLmSendsIt_IsReported()
    {
        var events = SseTranscripts.Parse("""data: {"error": "Model type qwen9 not supported."}""" + "\n\n").ToList();

        events.OfType<EngineError>().ShouldHaveSingleItem().Message.ShouldBe("Model type qwen9 not supported.");
    }

    [Fact]
    public void StreamThatStopsWithoutFinishOrDone_IsReportedAsUnfinished()
    {
        var events = SseTranscripts.Parse("""data: {"choices":[{"index":0,"delta":{"content":"Half an ans"},"finish_reason":null}]}""" + "\n\n").ToList();

        StreamSummary.Of(events).Content.ShouldBe("Half an ans");
        events.OfType<EngineError>().ShouldHaveSingleItem().Message.ShouldContain("before the answer was finished");
        events[^1].ShouldBe(new StreamEnded(false));
    }

    [Fact]
    public void FinishWithoutDoneMarker_IsStillComplete()
    {
        var events = SseTranscripts.Parse("""data: {"choices":[{"index":0,"delta":{"content":"ok"},"finish_reason":"stop"}]}""").ToList();

        events[^1].ShouldBe(new StreamEnded(true));
        events.OfType<EngineError>().ShouldBeEmpty();
    }

    [Fact]
    public void ToolCallsWithoutFinishReason_AreReportedAtTheEndOfTheStream()
    {
        const string transcript =
            """data: {"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"c1","function":{"name":"calculate","arguments":"{\"expression\":\"1+1\"}"}}]}}]}""" + "\n\n" +
            "data: [DONE]\n\n";

        var events = SseTranscripts.Parse(transcript).ToList();

        events.OfType<ToolCallsCompleted>().ShouldHaveSingleItem().Calls.ShouldHaveSingleItem().Name.ShouldBe("calculate");
        events[^1].ShouldBe(new StreamEnded(true));
    }

    [Fact]
    public void FragmentsWithEmptyOrNullIdsAfterTheFirst_StayInTheSameCall()
    {
        const string transcript =
            """data: {"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"loc"}}]}}]}""" + "\n\n" +
            """data: {"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"","type":"function","function":{"name":"","arguments":"ation\": "}}]}}]}""" + "\n\n" +
            """data: {"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":null,"function":{"name":null,"arguments":"\"Rome\"}"}}]}}]}""" + "\n\n" +
            """data: {"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_1","function":{"name":"get_weather","arguments":""}}]},"finish_reason":"tool_calls"}]}""" + "\n\n";

        StreamSummary.Of(SseTranscripts.Parse(transcript)).ToolCalls.ShouldBe("""call_1:get_weather:{"location": "Rome"}""");
    }

    [Fact]
    public void EngineReusingAnIndexForADifferentCall_KeepsBothCalls()
    {
        // Told apart by their ids, as mlx_lm.server's whole calls always carry one.
        const string transcript =
            """data: {"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"a","function":{"name":"calculate","arguments":"{}"}}]}}]}""" + "\n\n" +
            """data: {"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"b","function":{"name":"get_weather","arguments":"{}"}}]},"finish_reason":"tool_calls"}]}""" + "\n\n";

        StreamSummary.Of(SseTranscripts.Parse(transcript)).ToolCalls.ShouldBe("a:calculate:{} | b:get_weather:{}");
    }

    [Fact]
    public void GarbledChunk_IsSkipped_AndTheRestOfTheAnswerArrives()
    {
        const string transcript =
            """data: {"choices":[{"index":0,"delta":{"content":"one "}}]}""" + "\n\n" +
            "data: {not json\n\n" +
            """data: {"choices":[{"index":0,"delta":{"content":"two"},"finish_reason":"stop"}]}""" + "\n\n" +
            "data: [DONE]\n\n";

        var summary = StreamSummary.Of(SseTranscripts.Parse(transcript));

        summary.Content.ShouldBe("one two");
        summary.Complete.ShouldBeTrue();
    }

    [Fact]
    public void ErrorEventType_IsAnEngineError()
    {
        var events = SseTranscripts.Parse("event: error\ndata: {\"detail\": \"Queue is full\"}\n\n").ToList();

        events.OfType<EngineError>().ShouldHaveSingleItem().Message.ShouldBe("Queue is full");
    }

    [Fact]
    public void LineLongerThanTheLimit_EndsTheStreamWithAClearError()
    {
        var parser = new ChatStreamParser(maxLineBytes: 100);
        var output = new List<ChatStreamEvent>();

        parser.Feed(Encoding.UTF8.GetBytes("data: " + new string('x', 60)), output);
        parser.Feed(Encoding.UTF8.GetBytes(new string('x', 60)), output);
        parser.Complete(output);

        output.OfType<EngineError>().ShouldHaveSingleItem().Message.ShouldContain("longer than 100 bytes");
        output[^1].ShouldBe(new StreamEnded(false));
    }

    [Fact]
    public void NonStreamedCompletion_IsNormalisedLikeAStream()
    {
        const string json = """
            {"id":"chatcmpl-1","object":"chat.completion","choices":[{"index":0,"finish_reason":"stop",
             "message":{"role":"assistant","content":"<think>plan</think>Answer","reasoning":null,"tool_calls":[]}}],
             "usage":{"prompt_tokens":5,"completion_tokens":3,"total_tokens":8}}
            """;
        var parser = new ChatStreamParser();
        var output = new List<ChatStreamEvent>();

        parser.FeedCompletionJson(Encoding.UTF8.GetBytes(json), output);
        parser.Complete(output);
        var summary = StreamSummary.Of(output);

        summary.Reasoning.ShouldBe("plan");
        summary.Content.ShouldBe("Answer");
        summary.Complete.ShouldBeTrue();
    }

    [Fact]
    public void MultiLineDataField_IsJoinedAsOneEvent()
    {
        var transcript = "data: {\"choices\":[{\"index\":0,\ndata: \"delta\":{\"content\":\"joined\"},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n";

        StreamSummary.Of(SseTranscripts.Parse(transcript)).Content.ShouldBe("joined");
    }

    [Fact]
    public void MultibyteCharactersSplitAcrossReads_AreDecodedIntact()
    {
        const string transcript = """data: {"choices":[{"index":0,"delta":{"content":"日本語 🚲 ok"},"finish_reason":"stop"}]}""" + "\n\ndata: [DONE]\n\n";
        var bytes = Encoding.UTF8.GetBytes(transcript);

        for (var split = 1; split < bytes.Length; split++)
        {
            StreamSummary.Of(FeedInPieces(bytes, [split, bytes.Length - split])).Content.ShouldBe("日本語 🚲 ok");
        }
    }

    private static string Transcript(string name) =>
        (string)typeof(SseTranscripts).GetField(name)!.GetValue(null)!;

    private static List<ChatStreamEvent> FeedInPieces(byte[] bytes, int[] pieces)
    {
        var parser = new ChatStreamParser(newToolCallId: SseTranscripts.SequentialIds());
        var output = new List<ChatStreamEvent>();
        var offset = 0;
        foreach (var length in pieces)
        {
            parser.Feed(bytes.AsSpan(offset, length), output);
            offset += length;
        }

        parser.Complete(output);
        return output;
    }
}
