using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace MlxManager.EngineEmulator.Models;

/// <summary>How the emulated model emits its thinking.</summary>
public enum ThinkingMarkup
{
    /// <summary>The engine's parser separates it (delta.reasoning / reasoning_content).</summary>
    Parsed,
    /// <summary><c>&lt;think&gt;…&lt;/think&gt;</c> left in the content.</summary>
    InlineTags,
    /// <summary>Only <c>&lt;/think&gt;</c> in the content: the chat template opened the block in the prompt.</summary>
    InlineClosingOnly,
}

/// <summary>How tool calls look in the raw text the model writes (what an engine without a parser passes through).</summary>
public enum ToolCallMarkup
{
    /// <summary>Qwen/Hermes: <c>&lt;tool_call&gt;{"name": …, "arguments": {…}}&lt;/tool_call&gt;</c>.</summary>
    Hermes,
    /// <summary>Llama 3: a bare JSON object <c>{"name": …, "parameters": {…}}</c>.</summary>
    LlamaJson,
}

/// <summary>What a model folder says about the model, read from the files the real engines read:
/// config.json, tokenizer_config.json (chat_template as a string or a list, tool_parser_type),
/// chat_template.jinja, chat_template.json, and the weight files.</summary>
public sealed partial record ModelFolder
{
    public required string Path { get; init; }
    public required JsonObject Config { get; init; }
    public required string ModelType { get; init; }
    public required bool HasVisionConfig { get; init; }
    public required int? ContextLength { get; init; }
    /// <summary>Every chat template the folder carries, from all the places engines look.</summary>
    public required IReadOnlyList<string> ChatTemplates { get; init; }
    public required string? ToolParserType { get; init; }
    public required bool SupportsTools { get; init; }
    public required bool SupportsThinking { get; init; }
    public required ThinkingMarkup Thinking { get; init; }
    public required ToolCallMarkup ToolMarkup { get; init; }
    public required bool HasTokenizer { get; init; }

    public bool HasChatTemplate => ChatTemplates.Count > 0;

    /// <summary>KV-cache bytes per token: keys and values, every layer, every KV head, 2-byte elements.</summary>
    public long KvBytesPerToken
    {
        get
        {
            var text = Config["text_config"] as JsonObject ?? Config;
            long Get(string key, long fallback) => text[key] is JsonValue v && v.TryGetValue<long>(out var l) ? l : fallback;
            var heads = Get("num_attention_heads", 8);
            var headDim = Get("head_dim", Get("hidden_size", 512) / Math.Max(1, heads));
            return 2 * Get("num_hidden_layers", 4) * Get("num_key_value_heads", heads) * headDim * 2;
        }
    }

    /// <summary>Reads a folder; throws <see cref="FileNotFoundException"/> without config.json and
    /// <see cref="JsonException"/> when config.json, tokenizer_config.json or chat_template.json is not JSON.</summary>
    public static ModelFolder Read(string path, string? extraTemplate = null)
    {
        var config = JsonNode.Parse(File.ReadAllText(System.IO.Path.Combine(path, "config.json"))) as JsonObject
            ?? throw new JsonException("config.json is not a JSON object");
        var tokenizerConfig = ReadObject(System.IO.Path.Combine(path, "tokenizer_config.json"));

        var templates = new List<string>();
        if (extraTemplate is { Length: > 0 }) templates.Add(extraTemplate);
        switch (tokenizerConfig?["chat_template"])
        {
            case JsonValue value when value.TryGetValue<string>(out var text):
                templates.Add(text);
                break;
            case JsonArray list:
                templates.AddRange(list.OfType<JsonObject>().Select(t => t["template"]?.GetValue<string>()).OfType<string>());
                break;
        }
        var jinja = System.IO.Path.Combine(path, "chat_template.jinja");
        if (File.Exists(jinja)) templates.Add(File.ReadAllText(jinja));
        if (ReadObject(System.IO.Path.Combine(path, "chat_template.json"))?["chat_template"] is JsonValue jsonTemplate
            && jsonTemplate.TryGetValue<string>(out var fromJson))
            templates.Add(fromJson);

        var toolParserType = tokenizerConfig?["tool_parser_type"] is JsonValue parser && parser.TryGetValue<string>(out var p) ? p : null;
        var textConfig = config["text_config"] as JsonObject;
        int? context = (config["max_position_embeddings"] ?? textConfig?["max_position_embeddings"]) is JsonValue ctx && ctx.TryGetValue<int>(out var c) ? c : null;
        var style = (config["_emulator"] as JsonObject)?["reasoning_style"]?.GetValue<string>() switch
        {
            "inline" => ThinkingMarkup.InlineTags,
            "inline_closing_only" => ThinkingMarkup.InlineClosingOnly,
            _ => ThinkingMarkup.Parsed,
        };

        return new ModelFolder
        {
            Path = path,
            Config = config,
            ModelType = config["model_type"]?.GetValue<string>() ?? textConfig?["model_type"]?.GetValue<string>() ?? "",
            HasVisionConfig = config["vision_config"] is JsonObject,
            ContextLength = context,
            ChatTemplates = templates,
            ToolParserType = toolParserType,
            SupportsTools = toolParserType is not null || templates.Any(RendersTools),
            SupportsThinking = templates.Any(t => t.Contains("enable_thinking", StringComparison.Ordinal) || t.Contains("<think>", StringComparison.Ordinal)),
            Thinking = style,
            ToolMarkup = templates.Any(t => t.Contains("<tool_call>", StringComparison.Ordinal)) ? ToolCallMarkup.Hermes : ToolCallMarkup.LlamaJson,
            HasTokenizer = File.Exists(System.IO.Path.Combine(path, "tokenizer.json"))
                || File.Exists(System.IO.Path.Combine(path, "tokenizer.model"))
                || tokenizerConfig is not null,
        };
    }

    /// <summary>True when the template uses the <c>tools</c> variable inside a Jinja statement or expression;
    /// a mention in a comment or in literal text does not count.</summary>
    public static bool RendersTools(string template)
    {
        var withoutComments = JinjaComment().Replace(template, "");
        return JinjaBlock().Matches(withoutComments).Any(m => ToolsIdentifier().IsMatch(m.Groups[1].Value));
    }

    [GeneratedRegex(@"\{#.*?#\}", RegexOptions.Singleline)]
    private static partial Regex JinjaComment();

    [GeneratedRegex(@"\{[%{]-?(.*?)-?[%}]\}", RegexOptions.Singleline)]
    private static partial Regex JinjaBlock();

    // Outside string literals is not checked: a template that only prints the word "tools" in a string is rare.
    [GeneratedRegex(@"(?<![\w.'""])tools(?![\w'""])")]
    private static partial Regex ToolsIdentifier();

    /// <summary>A JSON file's object, or null when the file is absent. Malformed JSON throws, as the engines'
    /// loaders fail on it.</summary>
    static JsonObject? ReadObject(string file) =>
        File.Exists(file) ? JsonNode.Parse(File.ReadAllText(file)) as JsonObject : null;
}
