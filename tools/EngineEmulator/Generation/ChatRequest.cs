using System.Text.Json.Nodes;

namespace MlxManager.EngineEmulator.Generation;

/// <summary>One content part of a message that is not text: an image, a video or audio, as the client sent it.</summary>
public sealed record MediaReference(string Kind, string PartType, string Url);

/// <summary>A tool call an assistant message carries (from an earlier turn).</summary>
public sealed record PriorToolCall(string Id, string Name, string Arguments);

/// <summary>A chat message reduced to what generation needs: its role, its text, its media and tool metadata.</summary>
public sealed record ChatMessage(string Role, string Text, IReadOnlyList<MediaReference> Media, IReadOnlyList<string> PartTypes,
    IReadOnlyList<PriorToolCall> ToolCalls, string? ToolCallId, string? Name);

/// <summary>A tool the client offers: its name and JSON-schema parameters.</summary>
public sealed record ToolDefinition(string Name, JsonObject Parameters);

/// <summary>A chat-completion request body, read leniently: every field the three engines accept is kept,
/// unknown ones are ignored as the real servers ignore them.</summary>
public sealed record ChatRequest
{
    public required JsonObject Body { get; init; }
    public required IReadOnlyList<ChatMessage> Messages { get; init; }
    public required IReadOnlyList<ToolDefinition> Tools { get; init; }
    public bool Stream { get; init; }
    public bool IncludeUsage { get; init; }
    public string? Model { get; init; }
    /// <summary><c>max_completion_tokens</c>, else <c>max_tokens</c>; null when neither was sent.</summary>
    public long? MaxTokens { get; init; }
    public IReadOnlyList<string> Stop { get; init; } = [];
    public JsonObject? ChatTemplateKwargs { get; init; }
    /// <summary>mlx_vlm's top-level <c>enable_thinking</c>.</summary>
    public bool? EnableThinking { get; init; }

    /// <summary>The last message whose role is <c>user</c>, or null.</summary>
    public ChatMessage? LastUser => Messages.LastOrDefault(m => m.Role == "user");

    /// <summary>Tool results that answer the latest assistant tool calls (the messages after the last user message).</summary>
    public IReadOnlyList<ChatMessage> PendingToolResults
    {
        get
        {
            int lastUser = -1;
            for (int i = 0; i < Messages.Count; i++) if (Messages[i].Role == "user") lastUser = i;
            return Messages.Skip(lastUser + 1).Where(m => m.Role == "tool").ToList();
        }
    }

    /// <summary>Parses a body; throws <see cref="FormatException"/> when <c>messages</c> is missing or not a list.</summary>
    public static ChatRequest Parse(JsonObject body)
    {
        if (body["messages"] is not JsonArray messages) throw new FormatException("Request did not contain messages");
        return new ChatRequest
        {
            Body = body,
            Messages = messages.OfType<JsonObject>().Select(ParseMessage).ToList(),
            Tools = (body["tools"] as JsonArray ?? []).OfType<JsonObject>().Select(ParseTool).OfType<ToolDefinition>().ToList(),
            Stream = body["stream"] is JsonValue s && s.TryGetValue<bool>(out var stream) && stream,
            IncludeUsage = body["stream_options"] is JsonObject o && o["include_usage"] is JsonValue u && u.TryGetValue<bool>(out var include) && include,
            Model = body["model"] is JsonValue m && m.TryGetValue<string>(out var model) ? model : null,
            MaxTokens = Integer(body["max_completion_tokens"]) ?? Integer(body["max_tokens"]),
            Stop = body["stop"] switch
            {
                JsonValue v when v.TryGetValue<string>(out var single) => [single],
                JsonArray list => list.Select(x => x is JsonValue xv && xv.TryGetValue<string>(out var t) ? t : null).OfType<string>().Where(t => t.Length > 0).ToList(),
                _ => [],
            },
            ChatTemplateKwargs = body["chat_template_kwargs"] as JsonObject,
            EnableThinking = body["enable_thinking"] is JsonValue e && e.TryGetValue<bool>(out var enable) ? enable : null,
        };
    }

    static long? Integer(JsonNode? node) => node is JsonValue v && v.TryGetValue<long>(out var l) ? l : null;

    static ToolDefinition? ParseTool(JsonObject tool)
    {
        var function = tool["function"] as JsonObject ?? tool;
        var name = function["name"] is JsonValue n && n.TryGetValue<string>(out var s) ? s : null;
        return name is null ? null : new ToolDefinition(name, function["parameters"] as JsonObject ?? []);
    }

    static ChatMessage ParseMessage(JsonObject message)
    {
        var role = message["role"] is JsonValue r && r.TryGetValue<string>(out var roleText) ? roleText : "user";
        var texts = new List<string>();
        var media = new List<MediaReference>();
        var partTypes = new List<string>();
        switch (message["content"])
        {
            case JsonValue value when value.TryGetValue<string>(out var text):
                texts.Add(text);
                break;
            case JsonArray parts:
                foreach (var part in parts.OfType<JsonObject>())
                {
                    var type = part["type"] is JsonValue t && t.TryGetValue<string>(out var typeText) ? typeText : "";
                    partTypes.Add(type);
                    switch (type)
                    {
                        case "text" or "input_text":
                            if (part["text"] is JsonValue tv && tv.TryGetValue<string>(out var partText)) texts.Add(partText);
                            break;
                        case "image_url" or "input_image" or "image":
                            if (UrlOf(part[type == "image" ? "image" : "image_url"]) is { } imageUrl) media.Add(new("image", type, imageUrl));
                            break;
                        case "video_url" or "input_video" or "video":
                            if (UrlOf(part[type == "video" ? "video" : "video_url"] ?? part["video"]) is { } videoUrl) media.Add(new("video", type, videoUrl));
                            break;
                        case "input_audio":
                            if (part["input_audio"] is JsonObject audio && audio["data"] is JsonValue data && data.TryGetValue<string>(out var b64))
                                media.Add(new("audio", type, $"data:audio/{audio["format"]?.GetValue<string>() ?? "wav"};base64,{b64}"));
                            break;
                    }
                }
                break;
        }
        var toolCalls = (message["tool_calls"] as JsonArray ?? []).OfType<JsonObject>().Select(call =>
        {
            var function = call["function"] as JsonObject;
            var arguments = function?["arguments"] switch
            {
                JsonValue a when a.TryGetValue<string>(out var argText) => argText,
                JsonNode node => node.ToJsonString(),
                null => "{}",
            };
            return new PriorToolCall(call["id"]?.ToString() ?? "", function?["name"]?.ToString() ?? "", arguments);
        }).ToList();
        return new ChatMessage(role, string.Join("", texts), media, partTypes, toolCalls,
            message["tool_call_id"]?.ToString(), message["name"]?.ToString());
    }

    static string? UrlOf(JsonNode? node) => node switch
    {
        JsonValue v when v.TryGetValue<string>(out var url) => url,
        JsonObject o when o["url"] is JsonValue u && u.TryGetValue<string>(out var url) => url,
        _ => null,
    };
}
