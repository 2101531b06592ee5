using MlxManager.Core.Chat.Servers;
using MlxManager.Core.Usage;

namespace MlxManager.Core.Chat;

/// <summary>
/// One web-chat turn's usage-ledger row (no key, always interactive, never queued): it sees every event of the turn,
/// takes the tokens from each round's <see cref="MessageMetrics"/> (the engine's usage, asked for by
/// <see cref="ChatRequestBuilder"/>; estimated when there was none) and ends with the turn's outcome — or as cancelled
/// when the turn is abandoned without one.
/// </summary>
public sealed class ChatTurnMeter
{
    private readonly TimeProvider _time;
    private readonly long _started;
    private readonly UsageRecord _row;
    private long _promptCharacters;
    private bool _ended;

    public ChatTurnMeter(string userId, TimeProvider time)
    {
        _time = time;
        _started = time.GetTimestamp();
        _row = new UsageRecord { StartedAtUtc = time.GetUtcNow().UtcDateTime, UserId = userId, Source = UsageSource.Chat };
    }

    public UsageRecord Row => _row;

    /// <summary>The conversation's profile, before a server is known (so a refused or failed turn still names it).</summary>
    public void Conversation(int? profileId, string? profileName)
    {
        _row.ProfileId = profileId;
        _row.ProfileName = profileName ?? "";
    }

    public void Server(ChatServer server)
    {
        _row.ProfileId = server.Profile.Id;
        _row.ProfileName = server.Profile.Name;
        _row.Model = server.ModelReference;
    }

    /// <summary>The text sent as the prompt, for an estimate when the engine reports no usage.</summary>
    public void Prompt(IEnumerable<ChatMessage> history) => _promptCharacters = history.Sum(CharactersOf);

    public void Refused(QuotaRefusal refusal)
    {
        _ended = true;
        _row.Outcome = UsageOutcome.RefusedByQuota;
        _row.Error = refusal.Message;
    }

    public void Observe(ChatStreamEvent streamEvent)
    {
        switch (streamEvent)
        {
            case ContentDelta or ToolCallStreaming:
                _row.TimeToFirstTokenMs ??= Milliseconds();
                break;
            case ReasoningDelta:
                _row.TimeToFirstTokenMs ??= Milliseconds();
                _row.ReasoningTokens++;
                break;
            case MessageCompleted { Metrics: { } metrics }:
                _row.PromptTokens += metrics.PromptTokens ?? TokenEstimate.OfCharacters(_promptCharacters);
                _row.CompletionTokens += metrics.CompletionTokens ?? 0;
                _row.TokensEstimated |= metrics.TokensEstimated || metrics.PromptTokens is null;
                break;
            case TurnEnded ended when !_ended:
                _ended = true;
                (_row.Outcome, _row.Error) = ended.Outcome switch
                {
                    TurnOutcome.Answered or TurnOutcome.RoundLimitReached => (UsageOutcome.Ok, (string?)null),
                    TurnOutcome.Stopped => (UsageOutcome.Cancelled, null),
                    _ => (UsageOutcome.Error, ended.Error),
                };
                break;
        }
    }

    /// <summary>The finished row: cancelled when the turn ended without saying how.</summary>
    public UsageRecord Finish()
    {
        if (!_ended)
        {
            _row.Outcome = UsageOutcome.Cancelled;
        }

        _row.DurationMs = Milliseconds();
        return _row;
    }

    private int Milliseconds() => (int)Math.Min(int.MaxValue, _time.GetElapsedTime(_started).TotalMilliseconds);

    private static long CharactersOf(ChatMessage message) => message switch
    {
        SystemMessage system => system.Text.Length,
        UserMessage user => user.Parts.Sum(part => part switch
        {
            TextPart text => text.Text.Length,
            TextFilePart file => file.Text.Length,
            _ => 0,
        }),
        AssistantMessage assistant => assistant.Content.Length,
        ToolResultMessage tool => tool.Content.Length,
        _ => 0,
    };
}
