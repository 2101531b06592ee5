namespace MlxManager.Core.Chat;

/// <summary>One message of a conversation, as the chat keeps it (thinking included, for display).</summary>
public abstract record ChatMessage;

/// <summary>
/// The conversation's system prompt. When a conversation has one it replaces the profile's default, even when
/// empty (the user cleared it on purpose).
/// </summary>
public sealed record SystemMessage(string Text) : ChatMessage;

/// <summary>A user message: text plus attachments.</summary>
public sealed record UserMessage(IReadOnlyList<MessagePart> Parts) : ChatMessage
{
    /// <summary>A text-only user message.</summary>
    public UserMessage(string text)
        : this([new TextPart(text)])
    {
    }
}

/// <summary>
/// An assistant message: the answer, the thinking that preceded it (shown, never sent back), and the tool calls
/// of this turn (all of them in one message).
/// </summary>
public sealed record AssistantMessage(string Content, string? Reasoning = null, IReadOnlyList<ToolCall>? ToolCalls = null) : ChatMessage
{
    /// <summary>The tool calls, never null.</summary>
    public IReadOnlyList<ToolCall> Calls => ToolCalls ?? [];
}

/// <summary>The result of one tool call, answered to the model as a <c>tool</c> message.</summary>
public sealed record ToolResultMessage(string ToolCallId, string ToolName, string Content, bool IsError = false) : ChatMessage;

/// <summary>A part of a user message.</summary>
public abstract record MessagePart;

/// <summary>Plain text typed by the user.</summary>
public sealed record TextPart(string Text) : MessagePart;

/// <summary>An image, sent as an <c>image_url</c> data URL.</summary>
public sealed record ImagePart(string MediaType, ReadOnlyMemory<byte> Data, string? FileName = null) : MessagePart
{
    private string? _dataUrl;

    // A copy made with `with` may change the type or the bytes: it encodes afresh.
    private ImagePart(ImagePart original)
        : base(original)
    {
        MediaType = original.MediaType;
        Data = original.Data;
        FileName = original.FileName;
    }

    /// <summary>
    /// <c>data:&lt;type&gt;;base64,…</c>, encoded once: every round of a turn (tool calls) sends the whole history
    /// again, and a 4 MB image is 5.3 MB of base64 each time.
    /// </summary>
    public string ToDataUrl() => _dataUrl ??= $"data:{MediaType};base64,{Convert.ToBase64String(Data.Span)}";

    /// <summary>Equal when type, bytes and name are (whether it was encoded yet does not count).</summary>
    public bool Equals(ImagePart? other) =>
        other is not null && MediaType == other.MediaType && Data.Equals(other.Data) && FileName == other.FileName;

    public override int GetHashCode() => HashCode.Combine(MediaType, Data, FileName);
}

/// <summary>
/// A video. <paramref name="Url"/> is what engines that accept <c>video_url</c> receive (a data URL, or a path/URL
/// the engine can open); <paramref name="Frames"/> are the frames someone already extracted, sent as images to
/// engines that do not accept video.
/// </summary>
public sealed record VideoPart(string Url, IReadOnlyList<ImagePart>? Frames = null, string? FileName = null) : MessagePart
{
    /// <summary>A video carried inline as a data URL.</summary>
    public static VideoPart FromBytes(string mediaType, ReadOnlySpan<byte> data, IReadOnlyList<ImagePart>? frames = null, string? fileName = null) =>
        new($"data:{mediaType};base64,{Convert.ToBase64String(data)}", frames, fileName);
}

/// <summary>A text file, inlined into the message text.</summary>
public sealed record TextFilePart(string FileName, string Text) : MessagePart;
