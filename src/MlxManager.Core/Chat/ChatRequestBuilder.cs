using System.Buffers;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace MlxManager.Core.Chat;

/// <summary>Which field carries the answer-length limit.</summary>
public enum MaxTokensField
{
    /// <summary><c>max_tokens</c>: understood by every engine.</summary>
    MaxTokens,

    /// <summary><c>max_completion_tokens</c>: the current OpenAI name.</summary>
    MaxCompletionTokens,

    /// <summary>Both fields with the same value.</summary>
    Both,
}

/// <summary>How video attachments reach the engine.</summary>
public enum VideoDelivery
{
    /// <summary>As a <c>video_url</c> part (mlx_vlm.server, mlx-openai-server).</summary>
    VideoUrl,

    /// <summary>As the already-extracted frames, one <c>image_url</c> part each.</summary>
    Frames,
}

/// <summary>A function the model may call (OpenAI function-tool schema).</summary>
/// <param name="Name">Function name.</param>
/// <param name="Description">What it does, for the model.</param>
/// <param name="Parameters">JSON schema of the arguments; an empty object schema when null.</param>
public sealed record ToolDefinition(string Name, string? Description, JsonElement? Parameters);

/// <summary>Everything about one request that is not the conversation itself.</summary>
public sealed record ChatRequestOptions
{
    /// <summary>The profile's model; always written to <c>model</c> whatever the client asked for.</summary>
    public required string Model { get; init; }

    /// <summary>The profile's default system prompt, used when the conversation has no system message.</summary>
    public string? DefaultSystemPrompt { get; init; }

    /// <summary>Answer-length limit; null leaves the engine's default (mlx_lm.server's is only 512).</summary>
    public int? MaxTokens { get; init; }

    /// <summary>Which field carries <see cref="MaxTokens"/>.</summary>
    public MaxTokensField MaxTokensField { get; init; } = MaxTokensField.MaxTokens;

    /// <summary>Sampling temperature.</summary>
    public double? Temperature { get; init; }

    /// <summary>Nucleus sampling.</summary>
    public double? TopP { get; init; }

    /// <summary>Top-k sampling.</summary>
    public int? TopK { get; init; }

    /// <summary>Min-p sampling.</summary>
    public double? MinP { get; init; }

    /// <summary>Repetition penalty.</summary>
    public double? RepetitionPenalty { get; init; }

    /// <summary>Presence penalty.</summary>
    public double? PresencePenalty { get; init; }

    /// <summary>Frequency penalty.</summary>
    public double? FrequencyPenalty { get; init; }

    /// <summary>Random seed.</summary>
    public int? Seed { get; init; }

    /// <summary>Stop sequences.</summary>
    public IReadOnlyList<string>? Stop { get; init; }

    /// <summary>The per-conversation thinking switch: sent as <c>chat_template_kwargs.enable_thinking</c> when set.</summary>
    public bool? EnableThinking { get; init; }

    /// <summary>Tools offered to the model; none when null or empty.</summary>
    public IReadOnlyList<ToolDefinition>? Tools { get; init; }

    /// <summary>How videos are sent.</summary>
    public VideoDelivery VideoDelivery { get; init; } = VideoDelivery.VideoUrl;

    /// <summary>Stream the answer (the chat always does).</summary>
    public bool Stream { get; init; } = true;

    /// <summary>
    /// Fields the engine must receive with every request (<c>IEngineDefinition.BuildRequestDefaults(profile)</c>),
    /// e.g. sampling that mlx_vlm.server takes only per request. Values the options above set win; nested objects
    /// (<c>chat_template_kwargs</c>) are merged key by key. <c>model</c>, <c>messages</c>, <c>stream</c> and
    /// <c>tools</c> are never taken from here.
    /// </summary>
    public JsonObject? RequestDefaults { get; init; }
}

/// <summary>A serialised request body with a known length (mlx_lm.server answers 411 to chunked bodies).</summary>
public sealed class ChatRequestBody
{
    private readonly byte[] _utf8Json;

    internal ChatRequestBody(byte[] utf8Json) => _utf8Json = utf8Json;

    /// <summary>The UTF-8 JSON bytes.</summary>
    public ReadOnlyMemory<byte> Utf8Json => _utf8Json;

    /// <summary>Content with <c>Content-Type: application/json</c> and a <c>Content-Length</c> (never chunked).</summary>
    public ByteArrayContent ToHttpContent()
    {
        var content = new ByteArrayContent(_utf8Json);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        content.Headers.ContentLength = _utf8Json.Length;
        return content;
    }

    /// <summary>The JSON as text (for logs and tests).</summary>
    public override string ToString() => Encoding.UTF8.GetString(_utf8Json);
}

/// <summary>
/// Turns a conversation into an OpenAI chat completion request: system prompt applied, thinking stripped,
/// tool calls and results in the shape templates expect, attachments as content parts, <c>model</c> pinned.
/// </summary>
public static class ChatRequestBuilder
{
    // The body is JSON for an engine, not HTML: no need to escape every non-ASCII character.
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Message sent for a tool call that never got a result (the user stopped the turn).</summary>
    public const string MissingToolResult = "The tool call was not executed.";

    /// <summary>Builds the request body for <paramref name="conversation"/>.</summary>
    public static ChatRequestBody Build(IReadOnlyList<ChatMessage> conversation, ChatRequestOptions options)
    {
        ArgumentNullException.ThrowIfNull(conversation);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrWhiteSpace(options.Model);

        var buffer = new ArrayBufferWriter<byte>(4096);
        using (var json = new Utf8JsonWriter(buffer, WriterOptions))
        {
            json.WriteStartObject();
            json.WriteString("model", options.Model);
            json.WritePropertyName("messages");
            WriteMessages(json, Normalise(conversation, options), options);
            if (options.Stream)
            {
                json.WriteBoolean("stream", true);
                json.WriteStartObject("stream_options");
                json.WriteBoolean("include_usage", true);
                json.WriteEndObject();
            }

            var written = new HashSet<string>(StringComparer.Ordinal) { "model", "messages", "stream", "stream_options", "tools", "tool_choice" };
            WriteSampling(json, options, written);
            WriteTemplateArguments(json, options);
            written.Add("chat_template_kwargs");
            if (options.Tools is { Count: > 0 } tools)
            {
                WriteTools(json, tools);
            }

            if (options.RequestDefaults is { } defaults)
            {
                foreach (var (name, value) in defaults)
                {
                    if (!written.Contains(name))
                    {
                        json.WritePropertyName(name);
                        if (value is null)
                        {
                            json.WriteNullValue();
                        }
                        else
                        {
                            value.WriteTo(json);
                        }
                    }
                }
            }

            json.WriteEndObject();
        }

        return new ChatRequestBody(buffer.WrittenSpan.ToArray());
    }

    // Produces the message list actually sent: system prompt first, consecutive user messages merged (templates
    // such as Gemma's insist on alternating roles, and a failed answer leaves two user messages in a row), every
    // tool call answered, orphan tool results dropped.
    private static List<ChatMessage> Normalise(IReadOnlyList<ChatMessage> conversation, ChatRequestOptions options)
    {
        var result = new List<ChatMessage>(conversation.Count + 1);
        var system = conversation.OfType<SystemMessage>().FirstOrDefault();
        var systemText = system is not null ? system.Text : options.DefaultSystemPrompt;
        if (!string.IsNullOrWhiteSpace(systemText))
        {
            result.Add(new SystemMessage(systemText));
        }

        HashSet<string>? pendingCalls = null;
        AssistantMessage? pendingAssistant = null;
        foreach (var message in conversation)
        {
            if (message is ToolResultMessage toolResult)
            {
                if (pendingCalls is not null && pendingCalls.Remove(toolResult.ToolCallId))
                {
                    result.Add(toolResult);
                }

                continue;
            }

            CloseToolCalls(result, pendingAssistant, pendingCalls);
            pendingCalls = null;
            pendingAssistant = null;
            switch (message)
            {
                case SystemMessage s when ReferenceEquals(s, system):
                    break;
                case SystemMessage s when !string.IsNullOrWhiteSpace(s.Text):
                    result.Add(s);
                    break;
                case UserMessage user when result.Count > 0 && result[^1] is UserMessage previous:
                    result[^1] = new UserMessage([.. previous.Parts, new TextPart("\n\n"), .. user.Parts]);
                    break;
                case UserMessage user:
                    result.Add(user);
                    break;
                case AssistantMessage assistant:
                    result.Add(assistant);
                    if (assistant.Calls.Count > 0)
                    {
                        pendingAssistant = assistant;
                        pendingCalls = assistant.Calls.Select(c => c.Id).ToHashSet(StringComparer.Ordinal);
                    }

                    break;
            }
        }

        CloseToolCalls(result, pendingAssistant, pendingCalls);
        return result;
    }

    private static void CloseToolCalls(List<ChatMessage> result, AssistantMessage? assistant, HashSet<string>? pending)
    {
        if (assistant is null || pending is not { Count: > 0 })
        {
            return;
        }

        foreach (var call in assistant.Calls.Where(c => pending.Contains(c.Id)))
        {
            result.Add(new ToolResultMessage(call.Id, call.Name, MissingToolResult, IsError: true));
        }
    }

    private static void WriteMessages(Utf8JsonWriter json, List<ChatMessage> messages, ChatRequestOptions options)
    {
        json.WriteStartArray();
        foreach (var message in messages)
        {
            json.WriteStartObject();
            switch (message)
            {
                case SystemMessage system:
                    json.WriteString("role", "system");
                    json.WriteString("content", system.Text);
                    break;
                case UserMessage user:
                    json.WriteString("role", "user");
                    json.WritePropertyName("content");
                    WriteUserContent(json, user, options);
                    break;
                case AssistantMessage assistant:
                    WriteAssistant(json, assistant);
                    break;
                case ToolResultMessage tool:
                    json.WriteString("role", "tool");
                    json.WriteString("tool_call_id", tool.ToolCallId);
                    json.WriteString("content", tool.IsError && !tool.Content.StartsWith("Error", StringComparison.OrdinalIgnoreCase)
                        ? "Error: " + tool.Content
                        : tool.Content);
                    break;
            }

            json.WriteEndObject();
        }

        json.WriteEndArray();
    }

    private static void WriteAssistant(Utf8JsonWriter json, AssistantMessage assistant)
    {
        json.WriteString("role", "assistant");

        // Thinking is deliberately not sent back. Content stays a string even when empty: some chat templates
        // concatenate it and fail on null.
        json.WriteString("content", assistant.Content);
        if (assistant.Calls.Count == 0)
        {
            return;
        }

        json.WriteStartArray("tool_calls");
        foreach (var call in assistant.Calls)
        {
            json.WriteStartObject();
            json.WriteString("id", call.Id);
            json.WriteString("type", "function");
            json.WriteStartObject("function");
            json.WriteString("name", call.Name);

            // mlx_lm.server json.loads() the arguments of earlier calls: invalid JSON there would fail every later
            // request of the conversation, so it is replaced by an empty object (the tool result carries the error).
            json.WriteString("arguments", IsJsonObject(call.Arguments) ? call.Arguments : "{}");
            json.WriteEndObject();
            json.WriteEndObject();
        }

        json.WriteEndArray();
    }

    private static void WriteUserContent(Utf8JsonWriter json, UserMessage user, ChatRequestOptions options)
    {
        var text = new StringBuilder();
        var hasMedia = user.Parts.Any(p => p is ImagePart or VideoPart);
        if (!hasMedia)
        {
            // A plain string: mlx_lm.server accepts only text parts, and every template understands a string.
            foreach (var part in user.Parts)
            {
                AppendText(text, part);
            }

            json.WriteStringValue(text.ToString());
            return;
        }

        json.WriteStartArray();
        foreach (var part in user.Parts)
        {
            switch (part)
            {
                case ImagePart image:
                    FlushText(json, text);
                    WriteImage(json, image);
                    break;
                case VideoPart video when options.VideoDelivery == VideoDelivery.VideoUrl:
                    FlushText(json, text);
                    json.WriteStartObject();
                    json.WriteString("type", "video_url");
                    json.WriteStartObject("video_url");
                    json.WriteString("url", video.Url);
                    json.WriteEndObject();
                    json.WriteEndObject();
                    break;
                case VideoPart video:
                    if (video.Frames is not { Count: > 0 } frames)
                    {
                        throw new InvalidOperationException(
                            $"The video '{video.FileName ?? "attachment"}' has no extracted frames, and this engine does not accept video.");
                    }

                    FlushText(json, text);
                    foreach (var frame in frames)
                    {
                        WriteImage(json, frame);
                    }

                    break;
                default:
                    AppendText(text, part);
                    break;
            }
        }

        FlushText(json, text);
        json.WriteEndArray();
    }

    private static void AppendText(StringBuilder text, MessagePart part)
    {
        switch (part)
        {
            case TextPart t:
                text.Append(t.Text);
                break;
            case TextFilePart file:
                if (text.Length > 0 && text[^1] != '\n')
                {
                    text.Append("\n\n");
                }

                var fence = Fence(file.Text);
                text.Append("File: ").Append(file.FileName).Append('\n')
                    .Append(fence).Append('\n').Append(file.Text);
                if (!file.Text.EndsWith('\n'))
                {
                    text.Append('\n');
                }

                text.Append(fence).Append('\n');
                break;
        }
    }

    // A code fence longer than any backtick run inside the file, so the file can't close it early.
    private static string Fence(string text)
    {
        int longest = 0, run = 0;
        foreach (var c in text)
        {
            run = c == '`' ? run + 1 : 0;
            longest = Math.Max(longest, run);
        }

        return new string('`', Math.Max(3, longest + 1));
    }

    private static void FlushText(Utf8JsonWriter json, StringBuilder text)
    {
        if (text.Length == 0)
        {
            return;
        }

        json.WriteStartObject();
        json.WriteString("type", "text");
        json.WriteString("text", text.ToString());
        json.WriteEndObject();
        text.Clear();
    }

    private static void WriteImage(Utf8JsonWriter json, ImagePart image)
    {
        json.WriteStartObject();
        json.WriteString("type", "image_url");
        json.WriteStartObject("image_url");
        json.WriteString("url", image.ToDataUrl());
        json.WriteEndObject();
        json.WriteEndObject();
    }

    private static void WriteSampling(Utf8JsonWriter json, ChatRequestOptions options, HashSet<string> written)
    {
        if (options.MaxTokens is { } maxTokens)
        {
            // Whichever field carries the limit, a default for the other one must not contradict it.
            written.Add("max_tokens");
            written.Add("max_completion_tokens");
            if (options.MaxTokensField is MaxTokensField.MaxTokens or MaxTokensField.Both)
            {
                json.WriteNumber("max_tokens", maxTokens);
            }

            if (options.MaxTokensField is MaxTokensField.MaxCompletionTokens or MaxTokensField.Both)
            {
                json.WriteNumber("max_completion_tokens", maxTokens);
            }
        }

        WriteNumber(json, "temperature", options.Temperature, written);
        WriteNumber(json, "top_p", options.TopP, written);
        if (options.TopK is { } topK)
        {
            json.WriteNumber("top_k", topK);
            written.Add("top_k");
        }

        WriteNumber(json, "min_p", options.MinP, written);
        WriteNumber(json, "repetition_penalty", options.RepetitionPenalty, written);
        WriteNumber(json, "presence_penalty", options.PresencePenalty, written);
        WriteNumber(json, "frequency_penalty", options.FrequencyPenalty, written);
        if (options.Seed is { } seed)
        {
            json.WriteNumber("seed", seed);
            written.Add("seed");
        }

        if (options.Stop is { Count: > 0 } stop)
        {
            json.WriteStartArray("stop");
            foreach (var s in stop)
            {
                json.WriteStringValue(s);
            }

            json.WriteEndArray();
            written.Add("stop");
        }
    }

    // chat_template_kwargs: the engine defaults' keys, then the conversation's thinking switch over them.
    private static void WriteTemplateArguments(Utf8JsonWriter json, ChatRequestOptions options)
    {
        var defaults = options.RequestDefaults?["chat_template_kwargs"] as JsonObject;
        if (options.EnableThinking is null && defaults is not { Count: > 0 })
        {
            return;
        }

        json.WriteStartObject("chat_template_kwargs");
        foreach (var (name, value) in defaults ?? [])
        {
            if (options.EnableThinking is not null && name == "enable_thinking")
            {
                continue;
            }

            json.WritePropertyName(name);
            if (value is null)
            {
                json.WriteNullValue();
            }
            else
            {
                value.WriteTo(json);
            }
        }

        if (options.EnableThinking is { } thinking)
        {
            json.WriteBoolean("enable_thinking", thinking);
        }

        json.WriteEndObject();
    }

    private static void WriteNumber(Utf8JsonWriter json, string name, double? value, HashSet<string> written)
    {
        if (value is { } v && double.IsFinite(v))
        {
            json.WriteNumber(name, v);
            written.Add(name);
        }
    }

    private static void WriteTools(Utf8JsonWriter json, IReadOnlyList<ToolDefinition> tools)
    {
        json.WriteStartArray("tools");
        foreach (var tool in tools)
        {
            json.WriteStartObject();
            json.WriteString("type", "function");
            json.WriteStartObject("function");
            json.WriteString("name", tool.Name);
            if (!string.IsNullOrWhiteSpace(tool.Description))
            {
                json.WriteString("description", tool.Description);
            }

            json.WritePropertyName("parameters");
            if (tool.Parameters is { ValueKind: JsonValueKind.Object } parameters)
            {
                parameters.WriteTo(json);
            }
            else
            {
                json.WriteStartObject();
                json.WriteString("type", "object");
                json.WriteStartObject("properties");
                json.WriteEndObject();
                json.WriteEndObject();
            }

            json.WriteEndObject();
            json.WriteEndObject();
        }

        json.WriteEndArray();
    }

    private static bool IsJsonObject(string text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        try
        {
            using var document = JsonDocument.Parse(text);
            return document.RootElement.ValueKind == JsonValueKind.Object;
        }
        catch (JsonException)
        {
            return false; // the model wrote broken JSON; the caller substitutes an empty object
        }
    }
}
