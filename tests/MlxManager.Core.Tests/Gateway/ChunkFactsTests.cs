using System.Text;
using MlxManager.Core.Gateway;

namespace MlxManager.Core.Tests.Gateway;

/// <summary>The forward-only reading of streamed chunks the usage meter relies on, on what each engine sends.</summary>
public class ChunkFactsTests
{
    private static ChunkFacts Read(string json) => ChunkFacts.Read(Encoding.UTF8.GetBytes(json));

    [Fact]
    public void AContentChunk_OfMlxLm_IsText_WithChoices_AndNoUsage()
    {
        var facts = Read("""{"id": "c", "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"role": "assistant", "content": "Hi"}, "finish_reason": null}]}""");

        facts.HasChoices.ShouldBeTrue();
        facts.HasText.ShouldBeTrue();
        facts.HasReasoning.ShouldBeFalse();
        facts.Usage.ShouldBeNull();
        facts.HasError.ShouldBeFalse();
    }

    [Theory]
    [InlineData("""{"choices":[{"delta":{"reasoning":"Let me think"}}]}""")]
    [InlineData("""{"choices":[{"delta":{"content":null,"reasoning_content":"Let me think"}}],"usage":null}""")]
    public void ThinkingChunks_AreReasoning_NotText(string json)
    {
        var facts = Read(json);

        facts.HasReasoning.ShouldBeTrue();
        facts.HasText.ShouldBeFalse();
        facts.Usage.ShouldBeNull("a null usage is no usage");
    }

    [Fact]
    public void EmptyDeltas_AndEmptyToolCallLists_AreNoToken_ButToolCallsAre()
    {
        Read("""{"choices":[{"delta":{"content":""},"finish_reason":"stop"}]}""").HasText.ShouldBeFalse();
        Read("""{"choices":[{"delta":{"tool_calls":[]}}]}""").HasToolCalls.ShouldBeFalse();
        Read("""{"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"a\""}}]}}]}""").HasToolCalls.ShouldBeTrue();
    }

    [Fact]
    public void AUsageOnlyChunk_HasUsage_AndNoChoices()
    {
        var facts = Read("""{"object": "chat.completion", "choices": [], "usage": {"prompt_tokens": 12, "completion_tokens": 6, "total_tokens": 18, "prompt_tokens_details": {"cached_tokens": 0}, "completion_tokens_details": {"reasoning_tokens": 4}}}""");

        facts.HasChoices.ShouldBeFalse();
        facts.Usage.ShouldBe((12, 6, 4));
    }

    [Fact]
    public void AFinalChunkWithUsage_OfMlxOpenAiServer_HasChoicesToo()
    {
        var facts = Read("""{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":{"prompt_tokens":9,"completion_tokens":3,"total_tokens":12}}""");

        facts.HasChoices.ShouldBeTrue("this chunk is passed on even to a client that did not ask for usage");
        facts.Usage.ShouldBe((9, 3, 0));
    }

    [Fact]
    public void AnErrorEvent_IsAnError()
    {
        Read("""{"error":{"message":"boom","type":"server_error"}}""").HasError.ShouldBeTrue();
        Read("""{"error":null,"choices":[]}""").HasError.ShouldBeFalse();
    }
}
