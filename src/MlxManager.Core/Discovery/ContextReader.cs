using System.Globalization;
using System.Text.Json;

namespace MlxManager.Core.Discovery;

/// <summary>The context window: max positions (nested text config included), rope scaling.</summary>
internal static class ContextReader
{
    private static readonly string[] ContextKeys =
        ["max_position_embeddings", "max_sequence_length", "seq_length", "n_positions", "max_seq_len", "n_ctx"];

    private static readonly HashSet<string> ContextExtendingRopeTypes = new(StringComparer.OrdinalIgnoreCase)
    {
        "linear", "dynamic", "yarn", "longrope", "llama3", "su", "ntk",
    };

    // Tokenizers store "no limit" as 1e30; anything past this is not a real context length.
    private const double PlausibleTokenizerLimit = 10_000_000;

    public static (int Tokens, string Source)? ReadTokens(ModelConfig? config, JsonElement? tokenizerConfig)
    {
        if (config is not null)
        {
            foreach (var key in ContextKeys)
            {
                if (config.Text(key) is { } found && found.AsInt() is { } tokens and > 0)
                {
                    return (tokens, found.Source);
                }
            }
        }

        if (tokenizerConfig is { ValueKind: JsonValueKind.Object } tok
            && tok.TryGetProperty("model_max_length", out var limit)
            && limit.ValueKind == JsonValueKind.Number
            && limit.TryGetDouble(out var value) && value is > 0 and < PlausibleTokenizerLimit)
        {
            return ((int)value, $"tokenizer_config.json: model_max_length = {limit.GetRawText()} (config.json does not say)");
        }

        return null;
    }

    public static Sourced<string>? ReadRopeScaling(ModelConfig config)
    {
        var declared = config.Text("rope_scaling", allowDefault: false) ?? config.Text("rope_parameters", allowDefault: false);
        if (declared is not { } found || found.Value.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        var rope = found.Value;
        // transformers 5 nests parameters per attention type; the full-attention entry governs the context.
        if (rope.TryGetProperty("full_attention", out var full) && full.ValueKind == JsonValueKind.Object)
        {
            rope = full;
        }

        var type = Str(rope, "rope_type") ?? Str(rope, "type");
        var factor = rope.TryGetProperty("factor", out var f) && f.ValueKind == JsonValueKind.Number ? f.GetDouble() : (double?)null;
        if (factor is null && (type is null || !ContextExtendingRopeTypes.Contains(type)))
        {
            return null;
        }

        var original = rope.TryGetProperty("original_max_position_embeddings", out var o) && o.TryGetInt64(out var ol)
            ? ol
            : config.Text("original_max_position_embeddings", allowDefault: false)?.AsLong();
        var note = (type ?? "rope")
            + (factor is { } x ? $" ×{x.ToString("0.##", CultureInfo.InvariantCulture)}" : string.Empty)
            + (original is { } orig ? $" (original {orig.ToString(CultureInfo.InvariantCulture)})" : string.Empty);
        var originalSource = original is not null && !rope.TryGetProperty("original_max_position_embeddings", out _)
            ? $"; config.json: original_max_position_embeddings = {original}"
            : string.Empty;
        return new Sourced<string>(note, found.Source + originalSource);
    }

    private static string? Str(JsonElement e, string key) =>
        e.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
}
