namespace MlxManager.Core.Chat.History;

/// <summary>A saved chat of one user with the server of one profile.</summary>
public sealed class Conversation
{
    /// <summary>Title given to a conversation until its first message names it.</summary>
    public const string DefaultTitle = "New chat";

    public int Id { get; set; }

    /// <summary>The owner; nobody else ever sees it.</summary>
    public string UserId { get; set; } = "";

    public string Title { get; set; } = DefaultTitle;

    /// <summary>The profile whose server answers (null when the profile was deleted).</summary>
    public int? ProfileId { get; set; }

    /// <summary>The profile's name when the conversation was created, shown if the profile is gone.</summary>
    public string? ProfileName { get; set; }

    /// <summary>The server (run) last used; a later run of the same profile takes over when it is gone.</summary>
    public int? ServerId { get; set; }

    /// <summary>The conversation's own system prompt; null uses the profile's default, empty sends none.</summary>
    public string? SystemPrompt { get; set; }

    /// <summary>The thinking switch, for models that can think.</summary>
    public bool ThinkingEnabled { get; set; } = true;

    /// <summary>Offer the MCP tools, for models whose template renders tools.</summary>
    public bool ToolsEnabled { get; set; } = true;

    public DateTime CreatedAtUtc { get; set; }

    public DateTime UpdatedAtUtc { get; set; }

    public List<ConversationMessage> Messages { get; set; } = [];
}

/// <summary>Who wrote a saved message.</summary>
public enum ConversationRole
{
    User = 0,
    Assistant = 1,
    Tool = 2,
}

/// <summary>One saved message: a user's message, an assistant answer (with its thinking and calls) or a tool result.</summary>
public sealed class ConversationMessage
{
    public long Id { get; set; }

    public int ConversationId { get; set; }

    /// <summary>Order within the conversation.</summary>
    public int Sequence { get; set; }

    public ConversationRole Role { get; set; }

    /// <summary>Text typed, answer, or tool result.</summary>
    public string Content { get; set; } = "";

    /// <summary>The model's thinking (shown, never sent back).</summary>
    public string? Reasoning { get; set; }

    /// <summary>All tool calls of an assistant message, as JSON (<see cref="ToolCall"/> list).</summary>
    public string? ToolCallsJson { get; set; }

    /// <summary>For a tool result: the call it answers.</summary>
    public string? ToolCallId { get; set; }

    /// <summary>For a tool result: the tool's name.</summary>
    public string? ToolName { get; set; }

    /// <summary>For a tool result: the tool failed.</summary>
    public bool IsError { get; set; }

    /// <summary>An answer cut by Stop or by an engine failure.</summary>
    public bool Incomplete { get; set; }

    /// <summary>The engine's finish reason (<c>length</c> = cut by the token limit).</summary>
    public string? FinishReason { get; set; }

    /// <summary>What went wrong, for an incomplete answer.</summary>
    public string? Error { get; set; }

    /// <summary>The model that answered.</summary>
    public string? Model { get; set; }

    public int? TimeToFirstTokenMs { get; set; }

    public int? ThinkingMs { get; set; }

    public int? DurationMs { get; set; }

    public int? PromptTokens { get; set; }

    public int? CompletionTokens { get; set; }

    public double? TokensPerSecond { get; set; }

    public bool TokensEstimated { get; set; }

    public DateTime CreatedAtUtc { get; set; }

    public List<ConversationAttachment> Attachments { get; set; } = [];
}

/// <summary>What an attachment is.</summary>
public enum AttachmentKind
{
    Image = 0,
    Video = 1,
    TextFile = 2,
}

/// <summary>A file attached to a user message, kept in the data folder so later turns still carry it.</summary>
public sealed class ConversationAttachment
{
    public long Id { get; set; }

    public long MessageId { get; set; }

    public AttachmentKind Kind { get; set; }

    /// <summary>The name the user's file had (display only; never used as a path).</summary>
    public string FileName { get; set; } = "";

    public string MediaType { get; set; } = "";

    /// <summary>The file's name inside the conversation's folder (generated, never from user input).</summary>
    public string StoredName { get; set; } = "";

    public long SizeBytes { get; set; }

    public int? Width { get; set; }

    public int? Height { get; set; }

    public DateTime CreatedAtUtc { get; set; }
}
