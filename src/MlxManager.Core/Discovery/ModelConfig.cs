using System.Text.Json;

namespace MlxManager.Core.Discovery;

/// <summary>A value found in a config file, with the provenance string the UI shows.</summary>
internal readonly record struct ConfigValue(JsonElement Value, string Path, string Source)
{
    public long? AsLong() => Value.ValueKind switch
    {
        JsonValueKind.Number when Value.TryGetInt64(out var l) => l,
        JsonValueKind.Number when Value.TryGetDouble(out var d) && d == Math.Floor(d) && Math.Abs(d) < long.MaxValue => (long)d,
        _ => null,
    };

    public int? AsInt() => AsLong() is { } l && l is >= int.MinValue and <= int.MaxValue ? (int)l : null;

    public double? AsDouble() => Value.ValueKind == JsonValueKind.Number && Value.TryGetDouble(out var d) ? d : null;

    public string? AsString() => Value.ValueKind == JsonValueKind.String ? Value.GetString() : null;

    public bool? AsBool() => Value.ValueKind switch
    {
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        _ => null,
    };
}

/// <summary>
/// config.json with the lookups detection needs: language-model keys live either at the top level or in a nested
/// text config (<c>text_config</c>, <c>llm_config</c>, <c>language_config</c>) for vision/audio models; a few keys
/// that transformers fills from class defaults are supplied from a small table and labelled as such.
/// </summary>
internal sealed class ModelConfig
{
    public const string FileName = "config.json";

    private static readonly string[] TextSectionNames = ["text_config", "llm_config", "language_config"];

    // Defaults of transformers config classes for keys that real configs omit (checked against
    // transformers' configuration_gemma3.py and configuration_llama.py). Only used when the key is absent.
    private static readonly Dictionary<string, (string ClassName, Dictionary<string, object> Values)> TransformersDefaults = new(StringComparer.Ordinal)
    {
        ["gemma3_text"] = ("Gemma3TextConfig", new(StringComparer.Ordinal)
        {
            ["vocab_size"] = 262_208,
            ["hidden_size"] = 2304,
            ["intermediate_size"] = 9216,
            ["num_hidden_layers"] = 26,
            ["num_attention_heads"] = 8,
            ["num_key_value_heads"] = 4,
            ["head_dim"] = 256,
            ["max_position_embeddings"] = 131_072,
            ["sliding_window"] = 4096,
            ["sliding_window_pattern"] = 6,
            ["tie_word_embeddings"] = true,
        }),
        ["llama"] = ("LlamaConfig", new(StringComparer.Ordinal)
        {
            ["vocab_size"] = 32_000,
            ["hidden_size"] = 4096,
            ["intermediate_size"] = 11_008,
            ["num_hidden_layers"] = 32,
            ["num_attention_heads"] = 32,
            ["max_position_embeddings"] = 2048,
            ["tie_word_embeddings"] = false,
        }),
    };

    private readonly JsonElement _root;
    private readonly JsonElement? _text;

    public ModelConfig(JsonElement root)
    {
        _root = root;
        foreach (var name in TextSectionNames)
        {
            if (root.TryGetProperty(name, out var section) && section.ValueKind == JsonValueKind.Object)
            {
                _text = section;
                TextSectionName = name;
                break;
            }
        }

        ModelType = root.TryGetProperty("model_type", out var type) && type.ValueKind == JsonValueKind.String ? type.GetString() : null;
        var textType = _text is { } text && text.TryGetProperty("model_type", out var tt) && tt.ValueKind == JsonValueKind.String ? tt.GetString() : null;
        // Gemma 3's outer config often carries a text_config without model_type: it is gemma3_text.
        TextModelType = textType ?? (ModelType == "gemma3" ? "gemma3_text" : ModelType);
    }

    public JsonElement Root => _root;

    public string? ModelType { get; }

    /// <summary>model_type of the language model (the nested one for vision models).</summary>
    public string? TextModelType { get; }

    /// <summary>"text_config" etc. when the language model is nested.</summary>
    public string? TextSectionName { get; }

    public JsonElement? TextSection => _text;

    /// <summary>
    /// A language-model key: the nested text config first, then the top level, then (when the key is absent
    /// everywhere) the transformers default for the text model type. An explicit null means "not set".
    /// </summary>
    public ConfigValue? Text(string key, bool allowDefault = true)
    {
        if (_text is { } text && text.TryGetProperty(key, out var nested))
        {
            return nested.ValueKind == JsonValueKind.Null ? null : Make(nested, $"{TextSectionName}.{key}");
        }

        if (_root.TryGetProperty(key, out var top))
        {
            return top.ValueKind == JsonValueKind.Null ? null : Make(top, key);
        }

        return allowDefault ? Default(key) : null;
    }

    /// <summary>A key at the top level first, then in the nested text config (no defaults).</summary>
    public ConfigValue? TopFirst(string key)
    {
        if (_root.TryGetProperty(key, out var top) && top.ValueKind != JsonValueKind.Null)
        {
            return Make(top, key);
        }

        if (_text is { } text && text.TryGetProperty(key, out var nested) && nested.ValueKind != JsonValueKind.Null)
        {
            return Make(nested, $"{TextSectionName}.{key}");
        }

        return null;
    }

    /// <summary>A key at the top level only.</summary>
    public ConfigValue? Top(string key) =>
        _root.TryGetProperty(key, out var top) && top.ValueKind != JsonValueKind.Null ? Make(top, key) : null;

    public static ConfigValue Make(JsonElement value, string path, string file = FileName) =>
        new(value, path, $"{file}: {path} = {Display(value)}");

    /// <summary>Compact JSON for a provenance string; long arrays and objects are shortened.</summary>
    public static string Display(JsonElement value)
    {
        var text = value.ValueKind switch
        {
            JsonValueKind.Object or JsonValueKind.Array => JsonSerializer.Serialize(value),
            _ => value.GetRawText(),
        };
        return text.Length <= 80 ? text : string.Concat(text.AsSpan(0, 77), "…");
    }

    private ConfigValue? Default(string key)
    {
        if (TextModelType is null || !TransformersDefaults.TryGetValue(TextModelType, out var defaults) || !defaults.Values.TryGetValue(key, out var value))
        {
            return null;
        }

        var element = JsonSerializer.SerializeToElement(value);
        var where = TextSectionName is null ? "config.json" : $"config.json {TextSectionName}";
        return new ConfigValue(
            element,
            key,
            $"transformers {defaults.ClassName} default: {key} = {element.GetRawText()} (absent from {where})");
    }
}
