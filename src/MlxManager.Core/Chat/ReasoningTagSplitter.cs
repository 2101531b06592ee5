using System.Text;

namespace MlxManager.Core.Chat;

/// <summary>Where the model's output begins for one request.</summary>
public enum ThinkingStart
{
    /// <summary>The output starts as answer text; <c>&lt;think&gt;</c> opens a thinking block.</summary>
    InAnswer,

    /// <summary>
    /// The chat template ended the prompt with an opening <c>&lt;think&gt;</c> (thinking enabled on a model whose
    /// template opens the block itself), so the output starts inside thinking and only the closing tag appears.
    /// </summary>
    InThinking,
}

/// <summary>
/// Splits streamed answer text into thinking and answer at inline <c>&lt;think&gt;…&lt;/think&gt;</c> and
/// <c>&lt;thinking&gt;…&lt;/thinking&gt;</c> tags, wherever the chunks are cut: only a trailing fragment that could
/// still become a tag (such as <c>&lt;/thi</c>) is held back until the next piece arrives.
/// </summary>
/// <remarks>
/// A lone closing tag: when the start state is <see cref="ThinkingStart.InThinking"/> everything before the
/// closing tag is thinking from the first byte. When the caller could not know (start state
/// <see cref="ThinkingStart.InAnswer"/>), the text is streamed as answer (nothing is delayed), and when a closing
/// tag arrives before any opening tag the already-sent text is reclassified with one
/// <see cref="ContentReclassifiedAsReasoning"/> event; consumers move it to the thinking panel. Once an engine
/// sends structured reasoning (<c>reasoning</c>/<c>reasoning_content</c>) it evidently separates thinking itself,
/// so an assumed <see cref="ThinkingStart.InThinking"/> start is dropped and no reclassification happens.
/// </remarks>
public sealed class ReasoningTagSplitter
{
    private static readonly string[] OpenTags = ["<think>", "<thinking>"];
    private static readonly string[] CloseTags = ["</think>", "</thinking>"];

    // Reclassification needs the answer text sent so far; past this size a lone closing tag is taken literally.
    private const int MaxReclassifiableChars = 1 << 20;

    private bool _inThinking;
    private string? _openedWith; // the open tag that started the current block; null when started by the template
    private bool _anyTagSeen;
    private bool _structuredReasoning;
    private bool _trimLeading = true; // leading blank lines of the answer or of a thinking block are noise
    private bool _answerStarted;
    private string _held = "";
    private StringBuilder? _answerSoFar = new();

    /// <summary>Creates a splitter for one completion stream.</summary>
    public ReasoningTagSplitter(ThinkingStart start = ThinkingStart.InAnswer)
    {
        _inThinking = start == ThinkingStart.InThinking;
    }

    /// <summary>True while the text being received is thinking.</summary>
    public bool InThinking => _inThinking;

    /// <summary>
    /// Tells the splitter the engine delivers thinking in its own field, so the answer text is not expected to
    /// begin inside a thinking block.
    /// </summary>
    public void OnStructuredReasoning()
    {
        if (!_answerStarted)
        {
            _trimLeading = true;
        }

        if (_structuredReasoning)
        {
            return;
        }

        _structuredReasoning = true;
        _answerSoFar = null;
        if (_inThinking && _openedWith is null && !_anyTagSeen)
        {
            _inThinking = false;
        }
    }

    /// <summary>Splits one piece of answer text, appending the resulting events to <paramref name="output"/>.</summary>
    public void Process(string text, List<ChatStreamEvent> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (string.IsNullOrEmpty(text))
        {
            return;
        }

        var input = _held.Length == 0 ? text : _held + text;
        _held = "";
        var segmentStart = 0;
        var searchFrom = 0;
        while (searchFrom < input.Length)
        {
            var lt = input.IndexOf('<', searchFrom);
            if (lt < 0)
            {
                break;
            }

            var match = MatchTag(input, lt);
            if (match.IsPartial)
            {
                Emit(input[segmentStart..lt], output);
                _held = input[lt..];
                return;
            }

            if (match.Tag is null)
            {
                searchFrom = lt + 1;
                continue;
            }

            var before = input[segmentStart..lt];
            if (ApplyTag(match.Tag, match.IsOpen, before, output))
            {
                segmentStart = lt + match.Tag.Length;
            }
            else
            {
                // Taken literally: keep it inside the current segment.
                Emit(before + match.Tag, output);
                segmentStart = lt + match.Tag.Length;
            }

            searchFrom = segmentStart;
        }

        Emit(input[segmentStart..], output);
    }

    /// <summary>Emits any held-back fragment at the end of the stream.</summary>
    public void Flush(List<ChatStreamEvent> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (_held.Length > 0)
        {
            var held = _held;
            _held = "";
            Emit(held, output);
        }
    }

    // Returns false when the tag is to be kept as literal text.
    private bool ApplyTag(string tag, bool isOpen, string before, List<ChatStreamEvent> output)
    {
        if (isOpen)
        {
            if (!_inThinking)
            {
                Emit(before, output);
                _inThinking = true;
                _openedWith = tag;
                _anyTagSeen = true;
                _trimLeading = true;
                return true;
            }

            // The template opened the block and the model repeated the opening tag: swallow it.
            if (_openedWith is null && !_anyTagSeen && string.IsNullOrWhiteSpace(before))
            {
                _openedWith = tag;
                _anyTagSeen = true;
                _trimLeading = true;
                return true;
            }

            return false;
        }

        if (_inThinking)
        {
            if (_openedWith is not null && !Matches(_openedWith, tag))
            {
                return false;
            }

            Emit(before, output);
            _inThinking = false;
            _openedWith = null;
            _anyTagSeen = true;
            _trimLeading = true;
            return true;
        }

        // A closing tag while in the answer: the template opened the block in the prompt without our knowing.
        if (!_anyTagSeen && _answerSoFar is not null)
        {
            var sent = _answerSoFar.ToString();
            _answerSoFar = null;
            if (sent.Length > 0)
            {
                output.Add(new ContentReclassifiedAsReasoning(sent));
            }

            _inThinking = true;
            Emit(before, output);
            _inThinking = false;
            _anyTagSeen = true;
            _trimLeading = true;
            return true;
        }

        return false;
    }

    private static bool Matches(string open, string close) => close.AsSpan(2).SequenceEqual(open.AsSpan(1));

    private void Emit(string text, List<ChatStreamEvent> output)
    {
        if (text.Length == 0)
        {
            return;
        }

        if (_trimLeading)
        {
            text = text.TrimStart();
            if (text.Length == 0)
            {
                return;
            }

            _trimLeading = false;
        }

        if (_inThinking)
        {
            output.Add(new ReasoningDelta(text));
            return;
        }

        if (_answerSoFar is not null && !_anyTagSeen)
        {
            if (_answerSoFar.Length + text.Length > MaxReclassifiableChars)
            {
                _answerSoFar = null;
            }
            else
            {
                _answerSoFar.Append(text);
            }
        }

        _answerStarted = true;
        output.Add(new ContentDelta(text));
    }

    private static TagMatch MatchTag(string input, int at)
    {
        var rest = input.AsSpan(at);
        var partial = false;
        foreach (var (tags, isOpen) in new[] { (OpenTags, true), (CloseTags, false) })
        {
            foreach (var tag in tags)
            {
                if (rest.StartsWith(tag, StringComparison.Ordinal))
                {
                    return new TagMatch(tag, isOpen, false);
                }

                if (rest.Length < tag.Length && tag.AsSpan().StartsWith(rest, StringComparison.Ordinal))
                {
                    partial = true;
                }
            }
        }

        return new TagMatch(null, false, partial);
    }

    private readonly record struct TagMatch(string? Tag, bool IsOpen, bool IsPartial);
}
