using System.Text.Json;

namespace MlxManager.Core.Discovery;

/// <summary>Quantization settings as declared, with per-layer overrides (MLX mixed-precision recipes).</summary>
internal sealed record QuantizationScheme(
    int? Bits,
    int? GroupSize,
    string Method,
    IReadOnlyDictionary<string, (int? Bits, int? GroupSize)> Layers,
    ConfigValue Declaration)
{
    public int? BitsFor(string modulePath) =>
        Layers.TryGetValue(modulePath, out var layer) ? layer.Bits ?? Bits : Bits;

    public int? GroupSizeFor(string modulePath) =>
        Layers.TryGetValue(modulePath, out var layer) ? layer.GroupSize ?? GroupSize : GroupSize;

    /// <summary>Average storage bytes per quantized parameter including scales (and biases for affine).</summary>
    public double? BytesPerParameter => (Method, Bits, GroupSize) switch
    {
        ("affine", { } bits, { } group) => (bits + (32.0 / group)) / 8,
        ("mxfp4" or "nvfp4" or "mxfp8", { } bits, { } group) => (bits + (8.0 / group)) / 8,
        (_, { } bits, _) => bits / 8.0,
        _ => null,
    };
}

/// <summary>Reads <c>quantization</c> (MLX) or <c>quantization_config</c> (transformers), or the unquantized dtype.</summary>
internal static class QuantizationReader
{
    public static QuantizationScheme? ReadScheme(ModelConfig config)
    {
        // MLX conversions write "quantization" (lmstudio also mirrors it into quantization_config): prefer it.
        var declaration = config.Top("quantization") ?? config.Top("quantization_config")
            ?? (config.TextSectionName is not null ? config.Text("quantization_config", allowDefault: false) : null);
        if (declaration is not { } found || found.Value.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        var q = found.Value;
        var method = (Str(q, "quant_method") ?? Str(q, "mode") ?? "affine").ToLowerInvariant();
        var bits = Int(q, "bits") ?? Int(q, "w_bit") ?? Int(q, "num_bits");
        var group = Int(q, "group_size") ?? Int(q, "q_group_size");

        switch (method)
        {
            case "mxfp4":
                bits ??= 4;
                group ??= 32;
                break;
            case "nvfp4":
                bits ??= 4;
                group ??= 16;
                break;
            case "mxfp8":
            case "fp8":
                bits ??= 8;
                break;
            case "bitsandbytes":
                bits ??= Bool(q, "load_in_4bit") == true ? 4 : Bool(q, "load_in_8bit") == true ? 8 : null;
                break;
            case "compressed-tensors":
                bits ??= CompressedTensorsBits(q);
                break;
        }

        var layers = new Dictionary<string, (int?, int?)>(StringComparer.Ordinal);
        foreach (var property in q.EnumerateObject())
        {
            if (property.Value.ValueKind == JsonValueKind.Object && property.Value.TryGetProperty("bits", out _))
            {
                layers[property.Name] = (Int(property.Value, "bits"), Int(property.Value, "group_size"));
            }
            else if (property.Value.ValueKind == JsonValueKind.False)
            {
                layers[property.Name] = (null, null);
            }
        }

        return new QuantizationScheme(bits, group, method, layers, found);
    }

    public static QuantizationInfo? Read(ModelConfig? config, QuantizationScheme? scheme, IReadOnlyList<SafetensorsHeader> headers)
    {
        if (scheme is not null)
        {
            var mixed = scheme.Layers.Values.Count(l => l.Bits is not null && (l.Bits != scheme.Bits || (l.GroupSize ?? scheme.GroupSize) != scheme.GroupSize));
            var label = Label(scheme) + (mixed > 0 ? " mixed" : string.Empty);
            var source = scheme.Declaration.Source;
            if (mixed > 0)
            {
                var otherBits = scheme.Layers.Values.Where(l => l.Bits is not null && l.Bits != scheme.Bits).Select(l => l.Bits!.Value).Distinct().Order();
                source += $"; {mixed} layers have their own settings ({string.Join("/", otherBits.Select(b => $"{b}-bit"))})";
            }

            return new QuantizationInfo(true, scheme.Bits, scheme.GroupSize, scheme.Method, null, mixed, label, source);
        }

        var dtype = config is null ? null : config.TopFirst("torch_dtype") ?? config.TopFirst("dtype");
        if (dtype is { } declared && declared.AsString() is { } name)
        {
            return new QuantizationInfo(false, null, null, null, name, 0, DtypeLabel(name), declared.Source);
        }

        var dominant = headers.SelectMany(h => h.Tensors)
            .GroupBy(t => t.Dtype)
            .Select(g => (Dtype: g.Key, Elements: g.Sum(t => t.ElementCount)))
            .OrderByDescending(g => g.Elements)
            .ToList();
        if (dominant.Count > 0 && dominant[0].Dtype is "BF16" or "F16" or "F32")
        {
            var share = dominant[0].Elements * 100.0 / Math.Max(1, dominant.Sum(d => d.Elements));
            var storage = dominant[0].Dtype switch { "BF16" => "bfloat16", "F16" => "float16", _ => "float32" };
            return new QuantizationInfo(false, null, null, null, storage, 0, DtypeLabel(storage), $"safetensors headers: {share:0}% of elements are {dominant[0].Dtype}");
        }

        return null;
    }

    public static string DtypeLabel(string dtype) => dtype.ToLowerInvariant() switch
    {
        "bfloat16" or "bf16" => "bf16",
        "float16" or "f16" or "fp16" or "half" => "fp16",
        "float32" or "f32" or "fp32" or "float" => "fp32",
        var other when other.StartsWith("float8", StringComparison.Ordinal) || other.StartsWith("f8", StringComparison.Ordinal) => "fp8",
        var other => other,
    };

    private static string Label(QuantizationScheme scheme) => scheme.Method switch
    {
        "affine" when scheme.Bits is { } bits => scheme.GroupSize is { } group ? $"{bits}-bit g{group}" : $"{bits}-bit",
        "mxfp4" or "nvfp4" or "mxfp8" or "fp8" => scheme.Method.ToUpperInvariant(),
        "awq" or "gptq" => $"{scheme.Bits?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "?"}-bit {scheme.Method.ToUpperInvariant()}"
            + (scheme.GroupSize is { } g and > 0 ? $" g{g}" : string.Empty),
        "bitsandbytes" => scheme.Bits is { } b ? $"{b}-bit bnb" : "bnb",
        _ when scheme.Bits is { } other => $"{other}-bit {scheme.Method}",
        _ => scheme.Method,
    };

    private static int? CompressedTensorsBits(JsonElement q)
    {
        if (!q.TryGetProperty("config_groups", out var groups) || groups.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        foreach (var group in groups.EnumerateObject())
        {
            if (group.Value.ValueKind == JsonValueKind.Object && group.Value.TryGetProperty("weights", out var weights)
                && weights.ValueKind == JsonValueKind.Object && Int(weights, "num_bits") is { } bits)
            {
                return bits;
            }
        }

        return null;
    }

    private static string? Str(JsonElement e, string key) =>
        e.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static int? Int(JsonElement e, string key) =>
        e.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var i) ? i : null;

    private static bool? Bool(JsonElement e, string key) =>
        e.TryGetProperty(key, out var v) ? v.ValueKind switch { JsonValueKind.True => true, JsonValueKind.False => false, _ => null } : null;
}
