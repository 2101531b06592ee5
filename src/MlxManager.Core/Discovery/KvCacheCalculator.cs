using System.Text.Json;

namespace MlxManager.Core.Discovery;

/// <summary>
/// KV-cache bytes from the text model's attention shape: per caching layer and token, keys and values of
/// every KV head, <c>2 × kv_heads × head_dim × bytes</c>. Layer kinds come from <c>layer_types</c> or Gemma 3's
/// sliding-window pattern; linear-attention layers keep a fixed-size state and layers that share another
/// layer's cache (<c>num_kv_shared_layers</c>) hold none.
/// </summary>
internal static class KvCacheCalculator
{
    private enum LayerKind
    {
        Full,
        Sliding,
        NoCache,
    }

    public static (KvCacheEstimate? Estimate, SlidingWindowInfo? Sliding) Compute(ModelConfig config, int? contextTokens, QuantizationInfo? quantization)
    {
        if (ArchitectureNames.IsEncoderOnly(config.TextModelType))
        {
            return (null, null);
        }

        var sources = new List<string>();
        var layers = Take(config.Text("num_hidden_layers") ?? config.Text("n_layer") ?? config.Text("num_layers"), sources);
        var heads = Take(config.Text("num_attention_heads") ?? config.Text("n_head"), sources);
        if (layers is not { } layerCount || layerCount <= 0 || heads is not { } headCount || headCount <= 0)
        {
            return (null, null);
        }

        var kvHeads = Take(config.Text("num_key_value_heads") ?? config.Text("num_kv_heads") ?? config.Text("multi_query_group_num"), sources) ?? headCount;
        var headDim = Take(config.Text("head_dim"), sources);
        if (headDim is null)
        {
            var hidden = Take(config.Text("hidden_size") ?? config.Text("n_embd"), sources);
            if (hidden is not { } h)
            {
                return (null, null);
            }

            headDim = h / headCount;
        }

        var bytesPerElement = quantization is { IsQuantized: false, Dtype: { } dtype } && QuantizationReader.DtypeLabel(dtype) == "fp32" ? 4 : 2;
        var perLayerToken = 2L * kvHeads * headDim.Value * bytesPerElement;

        // Multi-head latent attention (DeepSeek V2/V3): mlx-lm caches keys and values per head after up-projection.
        var mla = config.Text("kv_lora_rank") is not null
            && config.Text("qk_nope_head_dim")?.AsInt() is { } nope
            && config.Text("qk_rope_head_dim")?.AsInt() is { } ropeDim
            && config.Text("v_head_dim")?.AsInt() is { } vDim
            ? (long?)headCount * (nope + ropeDim + vDim) * bytesPerElement
            : null;
        if (mla is { } mlaBytes)
        {
            perLayerToken = mlaBytes;
            sources.Add("multi-head latent attention: K/V cached per head (qk_nope_head_dim + qk_rope_head_dim + v_head_dim)");
        }

        var kinds = LayerKinds(config, layerCount, sources);
        var shared = Take(config.Text("num_kv_shared_layers"), sources) ?? 0;
        var cachedPrefix = Math.Clamp(layerCount - shared, 0, layerCount);
        for (var i = cachedPrefix; i < kinds.Length; i++)
        {
            kinds[i] = LayerKind.NoCache;
        }

        // Sliding layers only save memory when a window is set, enabled and shorter than the context.
        var window = config.Text("use_sliding_window", allowDefault: false)?.AsBool() == false
            ? null
            : config.Text("sliding_window");
        var windowTokens = window?.AsInt();
        var slidingCount = kinds.Count(k => k == LayerKind.Sliding);
        SlidingWindowInfo? slidingInfo = null;
        if (slidingCount > 0 && windowTokens is { } w && w > 0 && (contextTokens is not { } ctx || w < ctx))
        {
            sources.Add(window!.Value.Source);
            slidingInfo = new SlidingWindowInfo(w, slidingCount, layerCount, $"{window.Value.Source}; {slidingCount} of {layerCount} layers use it");
        }
        else if (slidingCount > 0)
        {
            for (var i = 0; i < kinds.Length; i++)
            {
                kinds[i] = kinds[i] == LayerKind.Sliding ? LayerKind.Full : kinds[i];
            }
        }

        // Gemma 4: full-attention layers may use their own head size / KV head count.
        var fullHeadDim = Take(config.Text("global_head_dim"), sources) ?? headDim.Value;
        var fullKvHeads = Take(config.Text("num_global_key_value_heads"), sources) ?? kvHeads;
        var fullPerLayerToken = mla ?? (2L * fullKvHeads * fullHeadDim * bytesPerElement);

        var fullLayers = kinds.Count(k => k == LayerKind.Full);
        slidingCount = kinds.Count(k => k == LayerKind.Sliding);
        var fullBytes = fullLayers * fullPerLayerToken;
        var slidingBytes = slidingCount * perLayerToken;
        var cached = fullLayers + slidingCount;

        var formula = slidingCount == 0 && fullPerLayerToken == perLayerToken
            ? $"2 × {cached} layers × {kvHeads} KV heads × {headDim} head dim × {bytesPerElement} bytes = {ModelFormat.Number(fullBytes)} bytes/token"
            : $"{fullLayers} full-attention layers × {ModelFormat.Number(fullPerLayerToken)} B + {slidingCount} sliding-window layers × {ModelFormat.Number(perLayerToken)} B (capped at {slidingInfo?.Tokens} tokens) per token";
        if (cached < layerCount)
        {
            formula += $"; {layerCount - cached} of {layerCount} layers keep no per-token cache";
        }

        var estimate = new KvCacheEstimate(
            fullBytes + slidingBytes,
            fullBytes,
            slidingBytes,
            slidingInfo?.Tokens,
            layerCount,
            cached,
            kvHeads,
            headDim.Value,
            bytesPerElement,
            contextTokens,
            null,
            $"{formula} ({string.Join("; ", sources.Distinct())}; {(bytesPerElement == 4 ? "fp32" : "16-bit")} cache)");
        return (estimate with { BytesAtFullContext = contextTokens is { } full ? estimate.BytesAt(full) : null }, slidingInfo);
    }

    private static LayerKind[] LayerKinds(ModelConfig config, int layerCount, List<string> sources)
    {
        var kinds = new LayerKind[layerCount];
        if (config.Text("layer_types", allowDefault: false) is { } types && types.Value.ValueKind == JsonValueKind.Array)
        {
            var i = 0;
            foreach (var type in types.Value.EnumerateArray())
            {
                if (i >= layerCount)
                {
                    break;
                }

                kinds[i++] = type.GetString() switch
                {
                    "sliding_attention" or "chunked_attention" or "local_attention" => LayerKind.Sliding,
                    "linear_attention" or "mamba" or "conv" or "recurrent" => LayerKind.NoCache,
                    _ => LayerKind.Full,
                };
            }

            var counts = kinds.GroupBy(k => k).Select(g => $"{g.Count()} {g.Key switch { LayerKind.Sliding => "sliding", LayerKind.NoCache => "linear/recurrent", _ => "full" }}");
            sources.Add($"config.json: {types.Path} ({string.Join(", ", counts)})");
            return kinds;
        }

        if (config.TextModelType == "gemma3_text")
        {
            // Gemma 3: every Nth layer attends globally, the others use the sliding window.
            var pattern = config.Text("sliding_window_pattern", allowDefault: false)
                ?? config.Text("_sliding_window_pattern", allowDefault: false)
                ?? config.Text("sliding_window_pattern");
            if (pattern?.AsInt() is { } n and > 0)
            {
                sources.Add(pattern.Value.Source);
                for (var i = 0; i < layerCount; i++)
                {
                    kinds[i] = (i + 1) % n == 0 ? LayerKind.Full : LayerKind.Sliding;
                }
            }
        }

        return kinds;
    }

    private static int? Take(ConfigValue? value, List<string> sources)
    {
        if (value is not { } found || found.AsInt() is not { } number)
        {
            return null;
        }

        sources.Add(found.Source);
        return number;
    }
}
