using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using MlxManager.Core.Data;

namespace MlxManager.Core.Chat.History;

/// <summary>A conversation in the list of a user's chats.</summary>
public sealed record ConversationSummary(int Id, string Title, string? ProfileName, DateTime UpdatedAtUtc);

/// <summary>An attachment the user sent, already stored (see <see cref="AttachmentIntake"/>).</summary>
public sealed record StoredAttachment(AttachmentKind Kind, string FileName, string MediaType, string StoredName, long SizeBytes, int? Width, int? Height);

/// <summary>
/// Saves and reads the conversations of one user at a time: every read and write takes the user's id and
/// treats someone else's conversation as missing.
/// </summary>
public sealed class ConversationStore(AppDbContext db, AttachmentStore files, TimeProvider time)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>The user's conversations, most recently used first.</summary>
    public async Task<IReadOnlyList<ConversationSummary>> ListAsync(string userId, CancellationToken cancellationToken) =>
        await db.Conversations.AsNoTracking()
            .Where(c => c.UserId == userId)
            .OrderByDescending(c => c.UpdatedAtUtc).ThenByDescending(c => c.Id)
            .Select(c => new ConversationSummary(c.Id, c.Title, c.ProfileName, c.UpdatedAtUtc))
            .ToListAsync(cancellationToken).ConfigureAwait(false);

    /// <summary>The conversation with its messages and attachments in order, or null when it is not the user's.</summary>
    public async Task<Conversation?> GetAsync(string userId, int conversationId, CancellationToken cancellationToken)
    {
        var conversation = await db.Conversations.AsNoTracking()
            .Include(c => c.Messages).ThenInclude(m => m.Attachments)
            .AsSplitQuery()
            .FirstOrDefaultAsync(c => c.Id == conversationId && c.UserId == userId, cancellationToken).ConfigureAwait(false);
        conversation?.Messages.Sort((a, b) => a.Sequence.CompareTo(b.Sequence));
        return conversation;
    }

    /// <summary>Whether the conversation exists and is the user's: checked before anything touches it.</summary>
    public Task<bool> IsOwnedByAsync(string userId, int conversationId, CancellationToken cancellationToken) =>
        db.Conversations.AnyAsync(c => c.Id == conversationId && c.UserId == userId, cancellationToken);

    /// <summary>Bytes of attachment files the user's conversations keep (what <see cref="ChatOptions.MaxStoragePerUser"/> bounds).</summary>
    public async Task<long> AttachmentBytesAsync(string userId, CancellationToken cancellationToken) =>
        await (from a in db.ConversationAttachments
               join m in db.ConversationMessages on a.MessageId equals m.Id
               join c in db.Conversations on m.ConversationId equals c.Id
               where c.UserId == userId
               select a.SizeBytes).SumAsync(cancellationToken).ConfigureAwait(false);

    /// <summary>Starts a conversation with a profile's server.</summary>
    public async Task<Conversation> CreateAsync(string userId, int? profileId, string? profileName, int? serverId, bool thinkingEnabled, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var conversation = new Conversation
        {
            UserId = userId,
            ProfileId = profileId,
            ProfileName = profileName,
            ServerId = serverId,
            ThinkingEnabled = thinkingEnabled,
            CreatedAtUtc = now,
            UpdatedAtUtc = now,
        };
        db.Conversations.Add(conversation);
        await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
        return conversation;
    }

    /// <summary>Renames a conversation; false when it is not the user's.</summary>
    public async Task<bool> RenameAsync(string userId, int conversationId, string title, CancellationToken cancellationToken)
    {
        var clean = CleanTitle(title);
        if (clean.Length == 0)
        {
            return false;
        }

        return await db.Conversations.Where(c => c.Id == conversationId && c.UserId == userId)
            .ExecuteUpdateAsync(s => s.SetProperty(c => c.Title, clean), cancellationToken).ConfigureAwait(false) == 1;
    }

    /// <summary>Deletes a conversation, its messages and its files; false when it is not the user's.</summary>
    public async Task<bool> DeleteAsync(string userId, int conversationId, CancellationToken cancellationToken)
    {
        var deleted = await db.Conversations.Where(c => c.Id == conversationId && c.UserId == userId)
            .ExecuteDeleteAsync(cancellationToken).ConfigureAwait(false) == 1;
        if (deleted)
        {
            files.DeleteConversation(conversationId);
        }

        return deleted;
    }

    /// <summary>Changes the system prompt (null = the profile's default) and the switches.</summary>
    public async Task<bool> UpdateSettingsAsync(string userId, int conversationId, string? systemPrompt, bool thinking, bool tools, CancellationToken cancellationToken) =>
        await db.Conversations.Where(c => c.Id == conversationId && c.UserId == userId)
            .ExecuteUpdateAsync(s => s
                .SetProperty(c => c.SystemPrompt, systemPrompt)
                .SetProperty(c => c.ThinkingEnabled, thinking)
                .SetProperty(c => c.ToolsEnabled, tools), cancellationToken).ConfigureAwait(false) == 1;

    /// <summary>Points the conversation at another server (run) of a profile.</summary>
    public async Task SetServerAsync(int conversationId, int? serverId, int? profileId, string? profileName, CancellationToken cancellationToken) =>
        await db.Conversations.Where(c => c.Id == conversationId)
            .ExecuteUpdateAsync(s => s
                .SetProperty(c => c.ServerId, serverId)
                .SetProperty(c => c.ProfileId, profileId)
                .SetProperty(c => c.ProfileName, profileName), cancellationToken).ConfigureAwait(false);

    /// <summary>Saves the user's message (and names the conversation after its first one).</summary>
    public async Task<ConversationMessage?> AddUserMessageAsync(string userId, int conversationId, string text, IReadOnlyList<StoredAttachment> attachments, CancellationToken cancellationToken)
    {
        var conversation = await db.Conversations.FirstOrDefaultAsync(c => c.Id == conversationId && c.UserId == userId, cancellationToken).ConfigureAwait(false);
        if (conversation is null)
        {
            return null;
        }

        var now = time.GetUtcNow().UtcDateTime;
        var message = new ConversationMessage
        {
            ConversationId = conversationId,
            Sequence = await NextSequenceAsync(conversationId, cancellationToken).ConfigureAwait(false),
            Role = ConversationRole.User,
            Content = text,
            CreatedAtUtc = now,
            Attachments = attachments.Select(a => new ConversationAttachment
            {
                Kind = a.Kind,
                FileName = a.FileName,
                MediaType = a.MediaType,
                StoredName = a.StoredName,
                SizeBytes = a.SizeBytes,
                Width = a.Width,
                Height = a.Height,
                CreatedAtUtc = now,
            }).ToList(),
        };
        if (conversation.Title == Conversation.DefaultTitle)
        {
            var named = CleanTitle(text.Length > 0 ? text : attachments.FirstOrDefault()?.FileName ?? "");
            if (named.Length > 0)
            {
                conversation.Title = named.Length > 60 ? named[..57].TrimEnd() + "…" : named;
            }
        }

        conversation.UpdatedAtUtc = now;
        db.ConversationMessages.Add(message);
        await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
        return message;
    }

    /// <summary>Saves an assistant answer or a tool result of a turn.</summary>
    public async Task<ConversationMessage> AddTurnMessageAsync(int conversationId, MessageCompleted completed, string? model, string? error, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var message = new ConversationMessage
        {
            ConversationId = conversationId,
            Sequence = await NextSequenceAsync(conversationId, cancellationToken).ConfigureAwait(false),
            CreatedAtUtc = now,
            Incomplete = completed.Incomplete,
            FinishReason = completed.FinishReason,
        };
        switch (completed.Message)
        {
            case AssistantMessage assistant:
                message.Role = ConversationRole.Assistant;
                message.Content = assistant.Content;
                message.Reasoning = assistant.Reasoning;
                message.ToolCallsJson = assistant.Calls.Count > 0 ? JsonSerializer.Serialize(assistant.Calls, Json) : null;
                message.Model = model;
                message.Error = completed.Incomplete ? error : null;
                if (completed.Metrics is { } m)
                {
                    message.TimeToFirstTokenMs = Milliseconds(m.TimeToFirstToken);
                    message.ThinkingMs = Milliseconds(m.ThinkingDuration);
                    message.DurationMs = Milliseconds(m.Duration);
                    message.PromptTokens = m.PromptTokens;
                    message.CompletionTokens = m.CompletionTokens;
                    message.TokensPerSecond = m.TokensPerSecond is { } tps && double.IsFinite(tps) ? Math.Round(tps, 2) : null;
                    message.TokensEstimated = m.TokensEstimated;
                }

                break;
            case ToolResultMessage tool:
                message.Role = ConversationRole.Tool;
                message.Content = tool.Content;
                message.ToolCallId = tool.ToolCallId;
                message.ToolName = tool.ToolName;
                message.IsError = tool.IsError;
                break;
            default:
                throw new ArgumentException($"A turn does not produce {completed.Message.GetType().Name}.", nameof(completed));
        }

        db.ConversationMessages.Add(message);
        await db.Conversations.Where(c => c.Id == conversationId)
            .ExecuteUpdateAsync(s => s.SetProperty(c => c.UpdatedAtUtc, now), cancellationToken).ConfigureAwait(false);
        await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
        return message;
    }

    /// <summary>The tool calls saved with an assistant message.</summary>
    public static IReadOnlyList<ToolCall> ToolCallsOf(ConversationMessage message) =>
        string.IsNullOrEmpty(message.ToolCallsJson) ? [] : JsonSerializer.Deserialize<List<ToolCall>>(message.ToolCallsJson, Json) ?? [];

    private async Task<int> NextSequenceAsync(int conversationId, CancellationToken cancellationToken) =>
        (await db.ConversationMessages.Where(m => m.ConversationId == conversationId)
            .MaxAsync(m => (int?)m.Sequence, cancellationToken).ConfigureAwait(false) ?? 0) + 1;

    private static int? Milliseconds(TimeSpan? span) => span is { } s ? (int)Math.Min(int.MaxValue, Math.Round(s.TotalMilliseconds)) : null;

    private static string CleanTitle(string title) =>
        string.Join(' ', title.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)).Trim() is var t && t.Length > 200 ? t[..200] : t;
}
