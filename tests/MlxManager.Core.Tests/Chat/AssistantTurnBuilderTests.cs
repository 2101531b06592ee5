using MlxManager.Core.Chat;

namespace MlxManager.Core.Tests.Chat;

public class AssistantTurnBuilderTests
{
    [Fact]
    public void LoneClosingTagStream_EndsWithTheThinkingInTheThinkingPanel()
    {
        const string transcript =
            """data: {"choices":[{"index":0,"delta":{"content":"Okay, the user asks about "},"finish_reason":null}]}""" + "\n\n" +
            """data: {"choices":[{"index":0,"delta":{"content":"Rust. I'll be brief.</th"},"finish_reason":null}]}""" + "\n\n" +
            """data: {"choices":[{"index":0,"delta":{"content":"ink>\n\nRust is a systems language."},"finish_reason":"stop"}]}""" + "\n\n" +
            "data: [DONE]\n\n";
        var builder = new AssistantTurnBuilder();
        var sawAnswerBeforeReclassification = false;

        foreach (var e in SseTranscripts.Parse(transcript))
        {
            builder.Apply(e);
            sawAnswerBeforeReclassification |= e is ContentDelta && builder.Reasoning.Length == 0;
        }

        sawAnswerBeforeReclassification.ShouldBeTrue(); // streamed live, nothing held back
        builder.ToMessage().ShouldBe(new AssistantMessage("Rust is a systems language.", "Okay, the user asks about Rust. I'll be brief."));
        builder.Complete.ShouldBeTrue();
    }

    [Fact]
    public void TemplateOpenedThinking_WithThinkingStart_IsThinkingFromTheFirstByte()
    {
        const string transcript =
            """data: {"choices":[{"index":0,"delta":{"content":"Plan: short."},"finish_reason":null}]}""" + "\n\n" +
            """data: {"choices":[{"index":0,"delta":{"content":"</think>Short answer."},"finish_reason":"stop"}]}""" + "\n\n" +
            "data: [DONE]\n\n";
        var builder = new AssistantTurnBuilder();
        var events = SseTranscripts.Parse(transcript, ThinkingStart.InThinking).ToList();

        events.ForEach(builder.Apply);

        events.OfType<ContentReclassifiedAsReasoning>().ShouldBeEmpty();
        builder.ToMessage().ShouldBe(new AssistantMessage("Short answer.", "Plan: short."));
    }

    [Fact]
    public void IsThinking_IsTrueUntilTheAnswerStarts()
    {
        var builder = new AssistantTurnBuilder();

        builder.Apply(new ReasoningDelta("hm"));
        builder.IsThinking.ShouldBeTrue();
        builder.Apply(new ContentDelta("A"));
        builder.IsThinking.ShouldBeFalse();
    }
}
