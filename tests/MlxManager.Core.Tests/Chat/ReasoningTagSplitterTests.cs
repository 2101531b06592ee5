using MlxManager.Core.Chat;

namespace MlxManager.Core.Tests.Chat;

public class ReasoningTagSplitterTests
{
    public static TheoryData<string, ThinkingStart, string, string> Samples => new()
    {
        { "Hi. <think>Plan the answer.</think>The answer is 42.", ThinkingStart.InAnswer, "Plan the answer.", "Hi. The answer is 42." },
        { "<thinking>Step 1 < step 2</thinking>Done <b>bold</b>", ThinkingStart.InAnswer, "Step 1 < step 2", "Done <b>bold</b>" },
        { "<think>\nA</think>\n\nB", ThinkingStart.InAnswer, "A", "B" },
        { "Let me see: x<y.</think>So x is smaller.", ThinkingStart.InThinking, "Let me see: x<y.", "So x is smaller." },
        { "<think>Repeated opening tag.</think>Answer", ThinkingStart.InThinking, "Repeated opening tag.", "Answer" },
        { "No thinking at all, just <i>text</i> and a < sign.", ThinkingStart.InAnswer, "", "No thinking at all, just <i>text</i> and a < sign." },
        { "Lone closing tag: template opened it.</think>Visible answer", ThinkingStart.InAnswer, "Lone closing tag: template opened it.", "Visible answer" },
    };

    [Theory]
    [MemberData(nameof(Samples))]
    public void Process_SplitIntoTwoAtEveryCharacter_GivesTheSameSplit(string text, ThinkingStart start, string reasoning, string content)
    {
        for (var split = 0; split <= text.Length; split++)
        {
            var result = Run(start, text[..split], text[split..]);
            result.ShouldBe((reasoning, content), $"split at {split}: '{text[..split]}' + '{text[split..]}'");
        }
    }

    [Theory]
    [MemberData(nameof(Samples))]
    public void Process_SplitIntoThreeAtEveryPairOfPositions_GivesTheSameSplit(string text, ThinkingStart start, string reasoning, string content)
    {
        for (var a = 0; a <= text.Length; a++)
        {
            for (var b = a; b <= text.Length; b++)
            {
                Run(start, text[..a], text[a..b], text[b..]).ShouldBe((reasoning, content), $"splits at {a} and {b}");
            }
        }
    }

    [Fact]
    public void Process_OneCharacterAtATime_GivesTheSameSplit()
    {
        const string text = "<thinking>deep</thinking>shallow";
        Run(ThinkingStart.InAnswer, text.Select(c => c.ToString()).ToArray()).ShouldBe(("deep", "shallow"));
    }

    [Fact]
    public void LoneClosingTag_ReclassifiesTheTextAlreadySentAsAnswer()
    {
        var splitter = new ReasoningTagSplitter();
        var output = new List<ChatStreamEvent>();

        splitter.Process("The template opened ", output);
        splitter.Process("the block.</think>Answer", output);

        output.ShouldBe([
            new ContentDelta("The template opened "),
            new ContentReclassifiedAsReasoning("The template opened "),
            new ReasoningDelta("the block."),
            new ContentDelta("Answer"),
        ]);
    }

    [Fact]
    public void SecondClosingTagAfterABlock_IsKeptAsText()
    {
        Run(ThinkingStart.InAnswer, "<think>a</think>b</think>c").ShouldBe(("a", "b</think>c"));
    }

    [Fact]
    public void MismatchedClosingTag_InsideAnExplicitBlock_IsThinkingText()
    {
        Run(ThinkingStart.InAnswer, "<thinking>about </think> tags</thinking>ok").ShouldBe(("about </think> tags", "ok"));
    }

    [Fact]
    public void TagPrefixAtTheEndOfTheStream_IsFlushedAsText()
    {
        Run(ThinkingStart.InAnswer, "a <thi").ShouldBe(("", "a <thi"));
    }

    [Fact]
    public void StructuredReasoning_CancelsAnAssumedThinkingStart()
    {
        // mlx_lm separates thinking itself even when the template opened the block.
        var splitter = new ReasoningTagSplitter(ThinkingStart.InThinking);
        var output = new List<ChatStreamEvent>();

        splitter.OnStructuredReasoning();
        splitter.Process("\n\nThe answer.", output);

        output.ShouldBe([new ContentDelta("The answer.")]);
    }

    [Fact]
    public void StartInThinking_WithoutClosingTag_StaysThinking()
    {
        // A model cut off by max_tokens mid-thought: it was thinking, not answering.
        Run(ThinkingStart.InThinking, "still thinking when the tokens ran out").ShouldBe(("still thinking when the tokens ran out", ""));
    }

    private static (string Reasoning, string Content) Run(ThinkingStart start, params string[] pieces)
    {
        var splitter = new ReasoningTagSplitter(start);
        var output = new List<ChatStreamEvent>();
        foreach (var piece in pieces)
        {
            splitter.Process(piece, output);
        }

        splitter.Flush(output);
        output.OfType<ContentDelta>().ShouldAllBe(d => d.Text.Length > 0);
        output.OfType<ReasoningDelta>().ShouldAllBe(d => d.Text.Length > 0);
        var builder = new AssistantTurnBuilder();
        output.ForEach(builder.Apply);
        return (builder.Reasoning, builder.Content);
    }
}
