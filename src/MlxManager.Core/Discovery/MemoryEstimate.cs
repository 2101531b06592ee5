using System.Text.Json.Serialization;
using MlxManager.Core.Platform;

namespace MlxManager.Core.Discovery;

[JsonConverter(typeof(JsonStringEnumConverter<MemoryVerdict>))]
public enum MemoryVerdict
{
    /// <summary>Needs at most 90 % of the budget.</summary>
    Fits,

    /// <summary>Needs more than 90 % of the budget but not more than all of it.</summary>
    Tight,

    /// <summary>Needs more than the budget.</summary>
    WontFit,

    /// <summary>The weight size is unknown.</summary>
    Unknown,
}

/// <summary>Will a model run on this machine at a given context, and the numbers behind the answer.</summary>
/// <param name="ContextTokens">Context the KV cache was sized for.</param>
/// <param name="KvCacheBytes">Null when the model's attention shape is unknown.</param>
/// <param name="RequiredBytes">Weights + KV cache + overhead; null when the weights are unknown.</param>
/// <param name="Summary">One sentence for the tile, e.g. "Fits: needs 9.8 GiB (…) of the 21.3 GiB the GPU may use (…)".</param>
public sealed record MemoryEstimate(
    MemoryVerdict Verdict,
    int ContextTokens,
    long? WeightsBytes,
    long? KvCacheBytes,
    long OverheadBytes,
    long? RequiredBytes,
    long BudgetBytes,
    string BudgetRule,
    long TotalBytes,
    long? AvailableBytes,
    string Summary);

/// <summary>
/// Weights + KV cache at the chosen context + a runtime overhead, against the machine's budget
/// (<see cref="SystemMemory.BudgetBytes"/>). The overhead is 512 MiB for the engine process (Python, MLX, Metal
/// buffers, tokenizer) plus 5 % of the weights for activations and allocator slack; a heuristic, stated in every
/// summary. "Tight" leaves less than 10 % of the budget free.
/// </summary>
public static class MemoryEstimator
{
    public const long BaseOverheadBytes = 512L << 20;
    public const double WeightsOverheadFraction = 0.05;
    public const double TightFraction = 0.9;

    /// <summary>Estimate for detected characteristics; the context defaults to (and is capped at) the model's own.</summary>
    public static MemoryEstimate Estimate(ModelCharacteristics model, int? contextTokens, SystemMemory memory)
    {
        ArgumentNullException.ThrowIfNull(model);
        var modelContext = model.Context?.Tokens;
        var context = contextTokens is { } wanted
            ? modelContext is { } max ? Math.Min(wanted, max) : wanted
            : modelContext ?? 4096;
        return Estimate(model.WeightBytes?.Value, model.KvCache, context, memory);
    }

    public static MemoryEstimate Estimate(long? weightsBytes, KvCacheEstimate? kvCache, int contextTokens, SystemMemory memory)
    {
        ArgumentNullException.ThrowIfNull(memory);
        ArgumentOutOfRangeException.ThrowIfNegative(contextTokens);
        var kv = kvCache?.BytesAt(contextTokens);
        var overhead = BaseOverheadBytes + (long)((weightsBytes ?? 0) * WeightsOverheadFraction);
        var budget = $"{ModelFormat.BinaryBytes(memory.BudgetBytes)} {(memory.Platform.StartsWith("macOS (Apple", StringComparison.Ordinal) ? "the GPU may use" : "of memory")} ({memory.BudgetRule})";
        if (weightsBytes is not { } weights)
        {
            return new MemoryEstimate(MemoryVerdict.Unknown, contextTokens, null, kv, overhead, null, memory.BudgetBytes, memory.BudgetRule, memory.TotalBytes, memory.AvailableBytes,
                $"Unknown: the weight size is not known yet; budget is {budget}.");
        }

        var required = weights + (kv ?? 0) + overhead;
        var verdict = required <= memory.BudgetBytes * TightFraction ? MemoryVerdict.Fits
            : required <= memory.BudgetBytes ? MemoryVerdict.Tight
            : MemoryVerdict.WontFit;
        var kvPart = kv is { } k
            ? $"KV cache {ModelFormat.BinaryBytes(k)} at {ModelFormat.Tokens(contextTokens)} tokens"
            : "KV cache unknown";
        var word = verdict switch { MemoryVerdict.Fits => "Fits", MemoryVerdict.Tight => "Tight", _ => "Won't fit" };
        var summary = $"{word}: needs about {ModelFormat.BinaryBytes(required)} (weights {ModelFormat.BinaryBytes(weights)} + {kvPart} + overhead {ModelFormat.BinaryBytes(overhead)}) of the {budget}.";
        if (verdict != MemoryVerdict.WontFit && memory.AvailableBytes is { } available && available < required)
        {
            summary += $" Only {ModelFormat.BinaryBytes(available)} is available right now.";
        }

        return new MemoryEstimate(verdict, contextTokens, weights, kv, overhead, required, memory.BudgetBytes, memory.BudgetRule, memory.TotalBytes, memory.AvailableBytes, summary);
    }
}
