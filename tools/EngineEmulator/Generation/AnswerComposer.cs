using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace MlxManager.EngineEmulator.Generation;

/// <summary>What the composer needs besides the request: how thinking and tools come out, what the
/// attachments turned out to be, and an optional echo of the request for <c>[[echo]]</c>.</summary>
public sealed record AnswerContext(ThinkingOutput Thinking, ToolOutput Tools, bool HermesToolMarkup,
    IReadOnlyList<MediaFacts> Media, Func<string> Echo);

/// <summary>Writes the model's answer: deterministic text derived from the conversation (the same conversation
/// always gets the same answer), thinking and tool calls as the context allows, and the magic prompts
/// <c>[[tokens:N]]</c>, <c>[[echo]]</c>, <c>[[crash]]</c> and <c>[[hang]]</c>.</summary>
public static partial class AnswerComposer
{
    static readonly string[] Vocabulary =
    [
        "the", "model", "answer", "local", "memory", "token", "quick", "river", "stone", "light", "garden", "signal", "paper",
        "window", "engine", "silver", "cloud", "morning", "simple", "careful", "bright", "quiet", "pattern", "number", "little",
        "green", "forest", "ocean", "mountain", "question", "reason", "detail", "season", "harbor", "lantern", "circle", "echo",
        "metal", "thread", "mirror", "planet", "library", "moment", "steady", "gentle", "record", "summer", "winter", "bridge",
        "yellow", "orbit", "field", "story", "method", "useful", "kernel", "vector", "matrix", "layer", "weight", "cache",
        "prompt", "stream", "server", "chunk", "apple", "silicon", "unified", "graph", "shader", "buffer", "queue", "batch",
    ];

    public static PlannedAnswer Compose(ChatRequest request, AnswerContext context)
    {
        var lastUser = request.LastUser?.Text ?? "";
        var seed = Fnv1a(string.Join("\u0001", request.Messages.Select(m => m.Role + ":" + m.Text)));
        var fault = lastUser.Contains("[[crash]]", StringComparison.Ordinal) ? PromptFault.Crash
            : lastUser.Contains("[[hang]]", StringComparison.Ordinal) ? PromptFault.Hang
            : PromptFault.None;
        var tokens = new List<PlannedToken>();

        var toolResults = request.PendingToolResults;
        var calls = context.Tools != ToolOutput.Ignored && toolResults.Count == 0
            ? ToolIntent.Find(lastUser, request.Tools)
            : [];

        if (context.Thinking != ThinkingOutput.None)
            AddThinking(tokens, context.Thinking, Reasoning(lastUser, seed), seed);

        if (calls.Count > 0)
        {
            for (int i = 0; i < calls.Count; i++)
                AddToolCall(tokens, new PlannedToolCall(i, calls[i].Name, calls[i].Arguments), context);
            return new PlannedAnswer(tokens, fault);
        }

        foreach (var piece in PseudoTokenizer.Split(Content(request, context, lastUser, toolResults, seed)))
            tokens.Add(new PlannedToken(TokenChannel.Content, piece));
        return new PlannedAnswer(tokens, fault);
    }

    static string Content(ChatRequest request, AnswerContext context, string lastUser, IReadOnlyList<ChatMessage> toolResults, ulong seed)
    {
        if (lastUser.Contains("[[echo]]", StringComparison.Ordinal)) return context.Echo();
        if (TokensMagic().Match(lastUser) is { Success: true } exact)
        {
            var count = int.Parse(exact.Groups[1].Value, CultureInfo.InvariantCulture);
            var rng = new Xorshift(seed);
            return string.Concat(Enumerable.Range(0, count).Select(i => (i == 0 ? "" : " ") + Vocabulary[rng.Next(Vocabulary.Length)]));
        }

        var sb = new StringBuilder();
        foreach (var group in context.Media.GroupBy(m => m.Kind))
        {
            var n = group.Count();
            sb.Append(CultureInfo.InvariantCulture, $"[received {n} {group.Key}{(n == 1 ? "" : "s")}: {string.Join("; ", group.Select(m => m.Describe()))}] ");
        }
        if (toolResults.Count > 0)
        {
            foreach (var result in toolResults)
            {
                var name = request.Messages.SelectMany(m => m.ToolCalls).FirstOrDefault(c => c.Id == result.ToolCallId)?.Name
                    ?? result.Name ?? "tool";
                sb.Append(CultureInfo.InvariantCulture, $"The {name} tool returned: \"{result.Text}\". ");
            }
            sb.Append(Sentence(new Xorshift(seed), 8, 14));
            return sb.ToString();
        }
        sb.Append(Sentence(new Xorshift(seed), 14, 34));
        return sb.ToString();
    }

    static string Reasoning(string lastUser, ulong seed)
    {
        var words = lastUser.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Take(6);
        var topic = string.Join(' ', words).Replace("<", "", StringComparison.Ordinal).Replace(">", "", StringComparison.Ordinal);
        return $"Okay, the user wrote \"{topic}\". " + Sentence(new Xorshift(seed ^ 0x9E3779B97F4A7C15UL), 8, 18) + " I will answer now.";
    }

    /// <summary>Thinking tokens. Inline tags are cut into two tokens at a position derived from the seed,
    /// so a client sees e.g. <c>&lt;th</c> then <c>ink&gt;</c> and must join chunks before looking for tags.</summary>
    static void AddThinking(List<PlannedToken> tokens, ThinkingOutput thinking, string reasoning, ulong seed)
    {
        var pieces = PseudoTokenizer.Split(reasoning);
        switch (thinking)
        {
            case ThinkingOutput.Parsed:
                tokens.AddRange(pieces.Select(p => new PlannedToken(TokenChannel.Reasoning, p)));
                break;
            case ThinkingOutput.InlineTags:
                AddSplit(tokens, "<think>", 1 + (int)(seed % 6));
                tokens.Add(new PlannedToken(TokenChannel.Content, "\n"));
                tokens.AddRange(pieces.Select(p => new PlannedToken(TokenChannel.Content, p)));
                tokens.Add(new PlannedToken(TokenChannel.Content, "\n"));
                AddSplit(tokens, "</think>", 1 + (int)(seed / 7 % 7));
                tokens.Add(new PlannedToken(TokenChannel.Content, "\n\n"));
                break;
            case ThinkingOutput.InlineClosingOnly:
                tokens.AddRange(pieces.Select(p => new PlannedToken(TokenChannel.Content, p)));
                tokens.Add(new PlannedToken(TokenChannel.Content, "\n"));
                AddSplit(tokens, "</think>", 1 + (int)(seed / 7 % 7));
                tokens.Add(new PlannedToken(TokenChannel.Content, "\n\n"));
                break;
        }
    }

    static void AddSplit(List<PlannedToken> tokens, string tag, int at)
    {
        tokens.Add(new PlannedToken(TokenChannel.Content, tag[..at]));
        tokens.Add(new PlannedToken(TokenChannel.Content, tag[at..]));
    }

    /// <summary>The call's text as the model writes it: opening markup with the name, the arguments in
    /// small pieces, closing markup. Without a parser the same text is plain content.</summary>
    static void AddToolCall(List<PlannedToken> tokens, PlannedToolCall call, AnswerContext context)
    {
        var (open, close) = context.HermesToolMarkup
            ? ($"<tool_call>\n{{\"name\": \"{call.Name}\", \"arguments\": ", "}\n</tool_call>")
            : ($"{{\"name\": \"{call.Name}\", \"parameters\": ", "}");
        var argumentPieces = Chunk(call.Arguments, 5);
        if (context.Tools == ToolOutput.RawText)
        {
            if (call.Index > 0) tokens.Add(new PlannedToken(TokenChannel.Content, "\n"));
            tokens.Add(new PlannedToken(TokenChannel.Content, open));
            tokens.AddRange(argumentPieces.Select(p => new PlannedToken(TokenChannel.Content, p)));
            tokens.Add(new PlannedToken(TokenChannel.Content, close));
            return;
        }
        tokens.Add(new PlannedToken(TokenChannel.ToolCall, open, call, ToolTokenRole.Open));
        tokens.AddRange(argumentPieces.Select(p => new PlannedToken(TokenChannel.ToolCall, p, call, ToolTokenRole.Arguments)));
        tokens.Add(new PlannedToken(TokenChannel.ToolCall, close, call, ToolTokenRole.Close));
    }

    static IEnumerable<string> Chunk(string text, int size)
    {
        for (int i = 0; i < text.Length; i += size) yield return text.Substring(i, Math.Min(size, text.Length - i));
    }

    static string Sentence(Xorshift rng, int min, int max)
    {
        int count = min + rng.Next(max - min + 1);
        var words = Enumerable.Range(0, count).Select(_ => Vocabulary[rng.Next(Vocabulary.Length)]).ToList();
        words[0] = char.ToUpperInvariant(words[0][0]) + words[0][1..];
        return string.Join(' ', words) + ".";
    }

    public static ulong Fnv1a(string text)
    {
        ulong hash = 14695981039346656037UL;
        foreach (var b in Encoding.UTF8.GetBytes(text))
        {
            hash ^= b;
            hash *= 1099511628211UL;
        }
        return hash;
    }

    [GeneratedRegex(@"\[\[tokens:(\d{1,6})\]\]")]
    private static partial Regex TokensMagic();

    sealed class Xorshift(ulong seed)
    {
        ulong state = seed == 0 ? 0x2545F4914F6CDD1DUL : seed;

        public int Next(int bound)
        {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            return (int)(state % (ulong)bound);
        }
    }
}
