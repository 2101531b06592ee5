using System.Text.RegularExpressions;

namespace MlxManager.EngineEmulator.Generation;

/// <summary>Cuts text into token-sized pieces the way a byte-level BPE roughly does: a word with its leading
/// space, a run of punctuation, a digit, whitespace. Long words become two pieces. Counts are close enough to
/// real tokenizers for prompt sizes, usage figures and pacing.</summary>
public static partial class PseudoTokenizer
{
    public static List<string> Split(string text)
    {
        var pieces = new List<string>();
        foreach (Match m in Piece().Matches(text))
        {
            var piece = m.Value;
            if (piece.Length > 9)
            {
                int cut = piece.Length / 2;
                pieces.Add(piece[..cut]);
                pieces.Add(piece[cut..]);
            }
            else pieces.Add(piece);
        }
        return pieces;
    }

    public static int Count(string text) => Split(text).Count;

    [GeneratedRegex(@" ?\p{L}+| ?\p{N}| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+")]
    private static partial Regex Piece();
}

/// <summary>The prompt a chat request turns into, as token pieces: role markers, texts, the tools block when
/// the template renders tools, and a fixed number of tokens per image or video.</summary>
public static class PromptRendering
{
    public const int TokensPerImage = 256;
    public const int TokensPerVideo = 1024;

    public static List<string> Tokens(ChatRequest request, bool renderTools)
    {
        var tokens = new List<string>();
        if (renderTools && request.Tools.Count > 0)
        {
            tokens.Add("<|im_start|>");
            tokens.AddRange(PseudoTokenizer.Split("system\n# Tools\n" + string.Join("\n", request.Tools.Select(t => t.Name + " " + t.Parameters.ToJsonString()))));
            tokens.Add("<|im_end|>");
        }
        foreach (var message in request.Messages)
        {
            tokens.Add("<|im_start|>");
            tokens.AddRange(PseudoTokenizer.Split(message.Role + "\n" + message.Text));
            foreach (var media in message.Media)
                tokens.AddRange(Enumerable.Repeat(media.Kind == "video" ? "<|video_pad|>" : "<|image_pad|>", media.Kind == "video" ? TokensPerVideo : TokensPerImage));
            foreach (var call in message.ToolCalls)
                tokens.AddRange(PseudoTokenizer.Split($"<tool_call>{call.Name} {call.Arguments}</tool_call>"));
            tokens.Add("<|im_end|>");
        }
        tokens.Add("<|im_start|>");
        tokens.Add("assistant\n");
        return tokens;
    }
}

/// <summary>The prompt cache: the token sequences of recent requests (prompt and answer) per model. A new prompt
/// reuses the longest prefix it shares with one of them, as mlx_lm's LRU prompt cache does.</summary>
public sealed class PromptCache(int capacity)
{
    readonly LinkedList<(string Model, List<string> Tokens)> entries = new();
    readonly Lock gate = new();

    public int Count
    {
        get
        {
            lock (gate) return entries.Count;
        }
    }

    /// <summary>Tokens held across all cached sequences.</summary>
    public long Tokens
    {
        get
        {
            lock (gate) return entries.Sum(e => (long)e.Tokens.Count);
        }
    }

    public int CachedPrefix(string model, IReadOnlyList<string> prompt)
    {
        lock (gate)
        {
            int best = 0;
            foreach (var (m, tokens) in entries)
            {
                if (m != model) continue;
                int n = 0;
                while (n < tokens.Count && n < prompt.Count && tokens[n] == prompt[n]) n++;
                best = Math.Max(best, n);
            }
            // The last prompt token is always processed again to produce the first logits.
            return Math.Min(best, Math.Max(0, prompt.Count - 1));
        }
    }

    public void Insert(string model, List<string> tokens)
    {
        lock (gate)
        {
            entries.AddFirst((model, tokens));
            while (entries.Count > Math.Max(1, capacity)) entries.RemoveLast();
        }
    }
}
