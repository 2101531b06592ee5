using System.Globalization;
using System.Text.Json;

namespace MlxManager.Core.Discovery;

/// <summary>Parameter counts from the best available source.</summary>
internal static class ParameterCounter
{
    private static readonly int[] PlausibleBits = [2, 3, 4, 5, 6, 8];

    /// <summary>
    /// Sums tensor element counts. Packed quantized weights count as many parameters as they pack (MLX U32
    /// weights ×32/bits, AWQ/GPTQ qweight ×32/bits, MXFP4 blocks ×2); scales, biases, zeros and group indices
    /// are quantization bookkeeping, not parameters.
    /// </summary>
    public static ParameterCount? FromHeaders(IReadOnlyList<(string File, SafetensorsHeader Header)> headers, QuantizationScheme? scheme, List<string> problems)
    {
        if (headers.Count == 0)
        {
            return null;
        }

        var tensors = new Dictionary<string, SafetensorsTensor>(StringComparer.Ordinal);
        foreach (var tensor in headers.SelectMany(h => h.Header.Tensors))
        {
            tensors[tensor.Name] = tensor;
        }

        long total = 0;
        var packed = 0;
        var skipped = 0;
        var guessedBits = false;
        var bitsSeen = new SortedSet<int>();
        foreach (var tensor in tensors.Values)
        {
            var name = tensor.Name;
            if (IsQuantizationAux(name, tensors))
            {
                skipped++;
                continue;
            }

            if (tensor.Dtype is "U32" or "I32" && (name.EndsWith(".weight", StringComparison.Ordinal) || name.EndsWith(".qweight", StringComparison.Ordinal)))
            {
                var module = name[..name.LastIndexOf('.')];
                var isMlxPacked = name.EndsWith(".weight", StringComparison.Ordinal) && tensors.ContainsKey(module + ".scales");
                var isGptqPacked = name.EndsWith(".qweight", StringComparison.Ordinal);
                if (isMlxPacked || isGptqPacked)
                {
                    var bits = scheme?.BitsFor(module);
                    if (bits is null && isMlxPacked)
                    {
                        bits = InferBits(tensor, tensors[module + ".scales"], scheme?.GroupSizeFor(module) ?? 64);
                    }

                    if (bits is null or <= 0 or > 32)
                    {
                        bits = 4;
                        guessedBits = true;
                    }

                    bitsSeen.Add(bits.Value);
                    total += tensor.ElementCount * 32 / bits.Value;
                    packed++;
                    continue;
                }
            }

            if (tensor.Dtype == "U8" && name.EndsWith("_blocks", StringComparison.Ordinal))
            {
                // MXFP4: two 4-bit values per byte.
                total += tensor.ElementCount * 2;
                packed++;
                continue;
            }

            total += tensor.ElementCount;
        }

        if (guessedBits)
        {
            problems.Add("quantized weights found but their bit width is not declared; counted them as 4-bit");
        }

        var detail = packed == 0
            ? string.Empty
            : $"; {packed} packed quantized tensors unpacked ({string.Join("/", bitsSeen.Select(b => $"{b}-bit"))}), {skipped} scales/biases not counted";
        var files = headers.Count == 1 ? headers[0].File : $"{headers.Count} files";
        return new ParameterCount(total, ParameterCountMethod.SafetensorsHeaders, $"safetensors headers ({files}): {ModelFormat.Number(total)} parameters{detail}");
    }

    public static ParameterCount? FromHubMetadata(IReadOnlyDictionary<string, long>? perDtype, QuantizationScheme? scheme)
    {
        if (perDtype is null || perDtype.Count == 0)
        {
            return null;
        }

        var raw = string.Join(", ", perDtype.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key} {ModelFormat.Number(p.Value)}"));
        var packedCount = perDtype.Where(p => p.Key is "U32" or "I32").Sum(p => p.Value);
        var others = perDtype.Where(p => p.Key is not ("U32" or "I32")).Sum(p => p.Value);
        if (packedCount == 0)
        {
            return new ParameterCount(others, ParameterCountMethod.HubSafetensorsMetadata, $"Hub safetensors metadata: {raw}");
        }

        if (scheme?.Bits is not { } bits || bits <= 0)
        {
            // Packed counts without a declared bit width cannot be unpacked honestly.
            return null;
        }

        var unpacked = packedCount * 32 / bits;
        var group = scheme.GroupSize ?? 64;
        var bookkeeping = scheme.Method == "affine" ? 2 * unpacked / group : scheme.Method is "awq" or "gptq" ? unpacked / group : 0;
        var total = Math.Max(0, others - bookkeeping) + unpacked;
        return new ParameterCount(
            total,
            ParameterCountMethod.HubSafetensorsMetadata,
            $"Hub safetensors metadata: {raw}; packed {bits}-bit weights unpacked ×{32 / bits}, scales/biases not counted");
    }

    public static ParameterCount? FromIndex(JsonElement index, QuantizationScheme? scheme, QuantizationInfo? quantization)
    {
        if (index.ValueKind != JsonValueKind.Object || !index.TryGetProperty("metadata", out var metadata) || metadata.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        if (metadata.TryGetProperty("total_parameters", out var parameters) && parameters.TryGetInt64(out var exact) && exact > 0)
        {
            return new ParameterCount(exact, ParameterCountMethod.IndexTotalParameters, $"model.safetensors.index.json: metadata.total_parameters = {exact}");
        }

        if (!metadata.TryGetProperty("total_size", out var size) || !size.TryGetInt64(out var bytes) || bytes <= 0)
        {
            return null;
        }

        double? perParameter = scheme?.BytesPerParameter;
        var basis = scheme is null ? null : $"{quantization?.Label ?? scheme.Method} incl. scales";
        if (perParameter is null && quantization is { IsQuantized: false, Dtype: { } dtype })
        {
            perParameter = QuantizationReader.DtypeLabel(dtype) switch { "fp32" => 4, "fp8" => 1, _ => 2 };
            basis = QuantizationReader.DtypeLabel(dtype);
        }

        if (perParameter is not { } divisor || divisor <= 0)
        {
            return null;
        }

        var estimate = (long)Math.Round(bytes / divisor);
        return new ParameterCount(
            estimate,
            ParameterCountMethod.IndexTotalSize,
            $"≈ model.safetensors.index.json: metadata.total_size = {bytes} bytes ÷ {divisor.ToString("0.####", CultureInfo.InvariantCulture)} bytes per parameter ({basis})");
    }

    /// <summary>Embeddings + attention + MLP of the text model; vision and audio towers are not included.</summary>
    public static ParameterCount? FromConfig(ModelConfig config)
    {
        var vocab = config.Text("vocab_size")?.AsLong();
        var hidden = config.Text("hidden_size")?.AsLong();
        var layers = config.Text("num_hidden_layers")?.AsLong();
        var intermediate = config.Text("intermediate_size")?.AsLong();
        var heads = config.Text("num_attention_heads")?.AsLong();
        if (vocab is not { } v || hidden is not { } h || layers is not { } l || intermediate is not { } i || heads is not { } n || n <= 0)
        {
            return null;
        }

        var kvHeads = config.Text("num_key_value_heads")?.AsLong() ?? n;
        var headDim = config.Text("head_dim")?.AsLong() ?? (h / n);
        var tied = config.Text("tie_word_embeddings")?.AsBool() ?? false;
        var encoderOnly = ArchitectureNames.IsEncoderOnly(config.TextModelType);
        var experts = config.Text("num_local_experts")?.AsLong() ?? config.Text("num_experts")?.AsLong() ?? config.Text("n_routed_experts")?.AsLong() ?? 1;
        var expertIntermediate = experts > 1 ? config.Text("moe_intermediate_size")?.AsLong() ?? i : i;
        var sharedExperts = config.Text("n_shared_experts")?.AsLong() ?? 0;

        // Encoder-only models (BERT family) have no LM head and a two-matrix MLP; decoders use gated three-matrix MLPs.
        var embeddings = v * h * (tied || encoderOnly ? 1 : 2);
        var attention = (h * n * headDim * 2) + (h * kvHeads * headDim * 2);
        var mlpMatrices = encoderOnly ? 2 : 3;
        var mlp = experts > 1
            ? ((experts + sharedExperts) * mlpMatrices * h * expertIntermediate) + (h * experts)
            : mlpMatrices * h * i;
        var total = embeddings + (l * (attention + mlp));
        var towers = config.Top("vision_config") is not null || config.Top("audio_config") is not null ? "; vision/audio towers not included" : string.Empty;
        return new ParameterCount(
            total,
            ParameterCountMethod.ConfigEstimate,
            $"≈ from config.json text-model dimensions (vocab {v}, hidden {h}, {l} layers, intermediate {i}, {n} heads, {kvHeads} KV heads{(experts > 1 ? $", {experts} experts" : string.Empty)}){towers}");
    }

    private static bool IsQuantizationAux(string name, Dictionary<string, SafetensorsTensor> tensors)
    {
        if (name.EndsWith(".qzeros", StringComparison.Ordinal) || name.EndsWith(".g_idx", StringComparison.Ordinal))
        {
            return true;
        }

        if (name.EndsWith(".scales", StringComparison.Ordinal) || name.EndsWith(".biases", StringComparison.Ordinal))
        {
            var module = name[..name.LastIndexOf('.')];
            return tensors.ContainsKey(module + ".qweight")
                || (tensors.TryGetValue(module + ".weight", out var weight) && weight.Dtype is "U32" or "I32");
        }

        if (name.EndsWith("_scales", StringComparison.Ordinal))
        {
            return tensors.ContainsKey(string.Concat(name.AsSpan(0, name.Length - "_scales".Length), "_blocks"));
        }

        return false;
    }

    // MLX packs along the input dimension: weight [out, in*bits/32], scales [out, in/group].
    private static int? InferBits(SafetensorsTensor weight, SafetensorsTensor scales, int groupSize)
    {
        if (weight.Shape.Count == 0 || scales.Shape.Count == 0)
        {
            return null;
        }

        var inputs = scales.Shape[^1] * groupSize;
        if (inputs <= 0 || (weight.Shape[^1] * 32) % inputs != 0)
        {
            return null;
        }

        var bits = (int)(weight.Shape[^1] * 32 / inputs);
        return PlausibleBits.Contains(bits) ? bits : null;
    }
}
