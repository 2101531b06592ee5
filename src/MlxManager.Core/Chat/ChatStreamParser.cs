using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace MlxManager.Core.Chat;

/// <summary>
/// Push parser for one OpenAI-compatible chat completion stream: feed it the response bytes exactly as they
/// arrive (split anywhere, LF or CRLF line ends) and it appends normalised <see cref="ChatStreamEvent"/>s.
/// Only an unfinished line is buffered, so memory stays proportional to one chunk.
/// </summary>
/// <remarks>Not thread-safe; one instance per stream. <see cref="ChatStreamReader"/> drives it from a response.</remarks>
public sealed partial class ChatStreamParser
{
    private readonly ReasoningTagSplitter _splitter;
    private readonly ToolCallAccumulator _toolCalls;
    private readonly int _maxLineBytes;
    private readonly ILogger _logger;
    private readonly ArrayBufferWriter<byte> _line = new(1024);
    private readonly ArrayBufferWriter<byte> _data = new(4096);
    private string? _eventType;
    private bool _pendingCr;
    private bool _hasData;
    private bool _toolCallsReported;
    private string? _finishReason;
    private bool _sawDone;
    private bool _failed;
    private bool _ended;

    /// <summary>Creates a parser for one stream.</summary>
    /// <param name="thinkingStart">Whether the output starts inside a thinking block (see <see cref="ThinkingStart"/>).</param>
    /// <param name="maxLineBytes">Longest accepted SSE line/event; longer ones end the stream with an error.</param>
    /// <param name="logger">Receives warnings about unreadable chunks.</param>
    /// <param name="newToolCallId">Makes ids for tool calls the engine sent without one.</param>
    public ChatStreamParser(
        ThinkingStart thinkingStart = ThinkingStart.InAnswer,
        int maxLineBytes = 32 * 1024 * 1024,
        ILogger? logger = null,
        Func<string>? newToolCallId = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLineBytes, 64);
        _splitter = new ReasoningTagSplitter(thinkingStart);
        _toolCalls = new ToolCallAccumulator(newToolCallId);
        _maxLineBytes = maxLineBytes;
        _logger = logger ?? Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;
    }

    /// <summary>True once the stream has ended (<see cref="StreamEnded"/> was emitted); further input is ignored.</summary>
    public bool IsEnded => _ended;

    /// <summary>True once <c>data: [DONE]</c> arrived: nothing more is expected.</summary>
    public bool SawDoneMarker => _sawDone;

    /// <summary>True once an <see cref="EngineError"/> was emitted.</summary>
    public bool HasFailed => _failed;

    /// <summary>Parses the next bytes of the SSE body.</summary>
    public void Feed(ReadOnlySpan<byte> bytes, List<ChatStreamEvent> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (_ended || _failed)
        {
            return;
        }

        if (_pendingCr && bytes.Length > 0)
        {
            _pendingCr = false;
            if (bytes[0] == (byte)'\n')
            {
                bytes = bytes[1..];
            }
        }

        while (!bytes.IsEmpty && !_failed && !_ended)
        {
            var end = bytes.IndexOfAny((byte)'\r', (byte)'\n');
            if (end < 0)
            {
                if (!AppendToLine(bytes, output))
                {
                    return;
                }

                break;
            }

            var isCr = bytes[end] == (byte)'\r';
            if (_line.WrittenCount > 0)
            {
                if (!AppendToLine(bytes[..end], output))
                {
                    return;
                }

                ProcessLine(_line.WrittenSpan, output);
                _line.ResetWrittenCount();
            }
            else
            {
                if (end > _maxLineBytes)
                {
                    Fail($"The engine sent a line longer than {_maxLineBytes} bytes.", output);
                    return;
                }

                ProcessLine(bytes[..end], output);
            }

            var consumed = end + 1;
            if (isCr)
            {
                if (consumed < bytes.Length)
                {
                    if (bytes[consumed] == (byte)'\n')
                    {
                        consumed++;
                    }
                }
                else
                {
                    _pendingCr = true;
                }
            }

            bytes = bytes[consumed..];
        }
    }

    /// <summary>
    /// Parses a whole non-streamed <c>chat.completion</c> JSON body (an engine that ignored <c>stream: true</c>).
    /// </summary>
    public void FeedCompletionJson(ReadOnlySpan<byte> json, List<ChatStreamEvent> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        ProcessPayload(json, output);
    }

    /// <summary>Ends the stream: flushes held-back text, reports tool calls and a missing finish, emits <see cref="StreamEnded"/>.</summary>
    public void Complete(List<ChatStreamEvent> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (_ended)
        {
            return;
        }

        if (!_failed)
        {
            if (_line.WrittenCount > 0)
            {
                ProcessLine(_line.WrittenSpan, output);
                _line.ResetWrittenCount();
            }

            DispatchEvent(output);
        }

        if (!_failed)
        {
            _splitter.Flush(output);
            ReportToolCalls(output);
            if (_finishReason is null && !_sawDone)
            {
                Fail("The engine closed the stream before the answer was finished.", output);
            }
        }

        _ended = true;
        output.Add(new StreamEnded(!_failed && (_finishReason is not null || _sawDone)));
    }

    /// <summary>Ends the stream with an error that happened outside the parser (a lost connection, a bad status).</summary>
    public void Fail(string message, List<ChatStreamEvent> output, int? statusCode = null)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (_failed || _ended)
        {
            return;
        }

        _splitter.Flush(output);
        _failed = true;
        output.Add(new EngineError(message, statusCode));
    }

    private bool AppendToLine(ReadOnlySpan<byte> bytes, List<ChatStreamEvent> output)
    {
        if (_line.WrittenCount + bytes.Length > _maxLineBytes)
        {
            Fail($"The engine sent a line longer than {_maxLineBytes} bytes.", output);
            return false;
        }

        _line.Write(bytes);
        return true;
    }

    private void ProcessLine(ReadOnlySpan<byte> line, List<ChatStreamEvent> output)
    {
        if (line.IsEmpty)
        {
            DispatchEvent(output);
            return;
        }

        if (line[0] == (byte)':')
        {
            ProcessComment(line[1..], output);
            return;
        }

        var colon = line.IndexOf((byte)':');
        var field = colon < 0 ? line : line[..colon];
        var value = colon < 0 ? ReadOnlySpan<byte>.Empty : line[(colon + 1)..];
        if (!value.IsEmpty && value[0] == (byte)' ')
        {
            value = value[1..];
        }

        if (field.SequenceEqual("data"u8))
        {
            if (_hasData)
            {
                _data.Write("\n"u8);
            }

            if (_data.WrittenCount + value.Length > _maxLineBytes)
            {
                Fail($"The engine sent an event longer than {_maxLineBytes} bytes.", output);
                return;
            }

            _data.Write(value);
            _hasData = true;
        }
        else if (field.SequenceEqual("event"u8))
        {
            _eventType = Encoding.UTF8.GetString(value);
        }

        // "id" and "retry" mean nothing for a one-shot completion stream.
    }

    private void DispatchEvent(List<ChatStreamEvent> output)
    {
        if (!_hasData)
        {
            _eventType = null;
            return;
        }

        var payload = _data.WrittenSpan;
        var isErrorEvent = string.Equals(_eventType, "error", StringComparison.OrdinalIgnoreCase);
        if (isErrorEvent)
        {
            var message = ErrorMessageReader.Read(payload) ?? Encoding.UTF8.GetString(payload);
            Fail(message, output);
        }
        else
        {
            ProcessPayload(payload, output);
        }

        _data.ResetWrittenCount();
        _hasData = false;
        _eventType = null;
    }

    private void ProcessComment(ReadOnlySpan<byte> comment, List<ChatStreamEvent> output)
    {
        // mlx_lm.server: ": keepalive 128/2048" while the prompt is processed.
        comment = comment.Trim((byte)' ');
        if (!comment.StartsWith("keepalive"u8))
        {
            return;
        }

        var rest = comment["keepalive"u8.Length..].Trim((byte)' ');
        var slash = rest.IndexOf((byte)'/');
        if (slash > 0
            && long.TryParse(rest[..slash], NumberStyles.None, CultureInfo.InvariantCulture, out var done)
            && long.TryParse(rest[(slash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var total))
        {
            output.Add(new PrefillProgress(done, total));
        }
    }

    private void ProcessPayload(ReadOnlySpan<byte> payload, List<ChatStreamEvent> output)
    {
        payload = payload.Trim(" \t\r\n"u8);
        if (payload.IsEmpty || _sawDone)
        {
            return;
        }

        if (payload.SequenceEqual("[DONE]"u8))
        {
            _sawDone = true;
            _splitter.Flush(output);
            ReportToolCalls(output);
            return;
        }

        JsonDocument document;
        try
        {
            var reader = new Utf8JsonReader(payload);
            document = JsonDocument.ParseValue(ref reader);
        }
        catch (JsonException ex)
        {
            // One garbled chunk should not lose the rest of the answer.
            LogUnreadableChunk(_logger, ex.Message, Encoding.UTF8.GetString(payload[..Math.Min(payload.Length, 200)]));
            return;
        }

        using (document)
        {
            ProcessChunk(document.RootElement, output);
        }
    }

    private void ProcessChunk(JsonElement root, List<ChatStreamEvent> output)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            return;
        }

        if (root.TryGetProperty("error", out var error) && error.ValueKind is not JsonValueKind.Null)
        {
            Fail(ErrorMessageReader.Describe(error), output);
            return;
        }

        if (root.TryGetProperty("choices", out var choices) && choices.ValueKind == JsonValueKind.Array)
        {
            foreach (var choice in choices.EnumerateArray())
            {
                // Only the first choice matters: the chat asks for n = 1.
                if (choice.TryGetProperty("index", out var index) && index.TryGetInt32(out var i) && i != 0)
                {
                    continue;
                }

                ProcessChoice(choice, output);
                break;
            }
        }

        if (root.TryGetProperty("usage", out var usage) && usage.ValueKind == JsonValueKind.Object)
        {
            output.Add(new UsageReported(ReadUsage(usage)));
        }

        if (root.TryGetProperty("timings", out var timings) && timings.ValueKind == JsonValueKind.Object)
        {
            output.Add(new TimingsReported(ReadTimings(timings)));
        }
    }

    private void ProcessChoice(JsonElement choice, List<ChatStreamEvent> output)
    {
        if (choice.ValueKind != JsonValueKind.Object)
        {
            return;
        }

        if (choice.TryGetProperty("delta", out var delta) || choice.TryGetProperty("message", out delta))
        {
            if (delta.ValueKind == JsonValueKind.Object)
            {
                ProcessDelta(delta, output);
            }
        }

        if (choice.TryGetProperty("finish_reason", out var finish) && finish.ValueKind == JsonValueKind.String)
        {
            _finishReason = finish.GetString() ?? "stop";
            _splitter.Flush(output);
            ReportToolCalls(output);
            output.Add(new Finished(_finishReason));
        }
    }

    private void ProcessDelta(JsonElement delta, List<ChatStreamEvent> output)
    {
        // mlx_vlm sends reasoning_content and its deprecated alias reasoning with the same text: use one.
        var reasoning = ReadText(delta, "reasoning_content") ?? ReadText(delta, "reasoning");
        if (reasoning is not null)
        {
            _splitter.OnStructuredReasoning();
            output.Add(new ReasoningDelta(reasoning));
        }

        var content = ReadText(delta, "content");
        if (content is not null)
        {
            _splitter.Process(content, output);
        }

        if (delta.TryGetProperty("tool_calls", out var toolCalls))
        {
            _toolCalls.Add(toolCalls, output);
        }
    }

    private void ReportToolCalls(List<ChatStreamEvent> output)
    {
        if (_toolCallsReported || !_toolCalls.HasCalls)
        {
            return;
        }

        _toolCallsReported = true;
        output.Add(new ToolCallsCompleted(_toolCalls.Complete()));
    }

    private static string? ReadText(JsonElement element, string property) =>
        element.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String
            && value.GetString() is { Length: > 0 } text
            ? text
            : null;

    private static TokenUsage ReadUsage(JsonElement usage)
    {
        var prompt = ReadInt(usage, "prompt_tokens") ?? 0;
        var completion = ReadInt(usage, "completion_tokens") ?? 0;
        var total = ReadInt(usage, "total_tokens") ?? prompt + completion;
        int? cached = usage.TryGetProperty("prompt_tokens_details", out var details) && details.ValueKind == JsonValueKind.Object
            ? ReadInt(details, "cached_tokens")
            : null;
        return new TokenUsage(prompt, completion, total, cached);
    }

    private static EngineTimings ReadTimings(JsonElement timings) => new(
        ReadDouble(timings, "predicted_per_second"),
        ReadDouble(timings, "prompt_per_second"),
        ReadInt(timings, "prompt_n"),
        ReadInt(timings, "predicted_n"),
        ReadDouble(timings, "peak_memory"));

    private static int? ReadInt(JsonElement element, string property) =>
        element.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.Number
            ? value.TryGetInt32(out var i) ? i : (int)Math.Clamp(value.GetDouble(), int.MinValue, int.MaxValue)
            : null;

    private static double? ReadDouble(JsonElement element, string property) =>
        element.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.Number ? value.GetDouble() : null;

    [LoggerMessage(Level = LogLevel.Warning, Message = "Skipped an unreadable chunk from the engine ({Reason}): {Chunk}")]
    private static partial void LogUnreadableChunk(ILogger logger, string reason, string chunk);
}
