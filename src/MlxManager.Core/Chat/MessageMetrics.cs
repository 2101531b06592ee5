namespace MlxManager.Core.Chat;

/// <summary>Figures shown under one assistant message.</summary>
/// <param name="TimeToFirstToken">From sending the request to the first thinking, answer or tool-call text.</param>
/// <param name="ThinkingDuration">From the first thinking text to the first answer text ("Thought for N s").</param>
/// <param name="Duration">From sending the request to the end of the stream.</param>
/// <param name="PromptTokens">Prompt tokens, when the engine reported usage.</param>
/// <param name="CompletionTokens">Generated tokens: the engine's count, or an estimate (see <paramref name="TokensEstimated"/>).</param>
/// <param name="CachedPromptTokens">Prompt tokens served from the engine's prompt cache.</param>
/// <param name="TokensPerSecond">Generation speed: tokens after the first divided by the time between first and last token.</param>
/// <param name="TokensEstimated">True when the engine sent no usage and tokens were counted as streamed pieces.</param>
/// <param name="EngineTokensPerSecond">The engine's own generation speed, when it reports one (mlx_vlm.server).</param>
/// <param name="PeakMemoryGb">The engine's peak memory, when it reports one (mlx_vlm.server).</param>
public sealed record MessageMetrics(
    TimeSpan? TimeToFirstToken,
    TimeSpan? ThinkingDuration,
    TimeSpan Duration,
    int? PromptTokens,
    int? CompletionTokens,
    int? CachedPromptTokens,
    double? TokensPerSecond,
    bool TokensEstimated,
    double? EngineTokensPerSecond,
    double? PeakMemoryGb);

/// <summary>
/// Measures one assistant message from its stream events with an injected <see cref="TimeProvider"/>:
/// call <see cref="Start"/> when the request is sent, <see cref="Observe"/> for every event, then <see cref="Snapshot"/>.
/// </summary>
public sealed class MessageMetricsRecorder
{
    private readonly TimeProvider _time;
    private long _startedAt;
    private long? _firstTokenAt;
    private long? _lastTokenAt;
    private long? _firstReasoningAt;
    private long? _firstContentAt;
    private long? _endedAt;
    private int _pieces;
    private TokenUsage? _usage;
    private EngineTimings? _timings;

    /// <summary>Creates a recorder reading time from <paramref name="time"/>.</summary>
    public MessageMetricsRecorder(TimeProvider time)
    {
        _time = time;
        _startedAt = time.GetTimestamp();
    }

    /// <summary>Marks the moment the request was sent.</summary>
    public void Start() => _startedAt = _time.GetTimestamp();

    /// <summary>Accounts for one event.</summary>
    public void Observe(ChatStreamEvent streamEvent)
    {
        var now = _time.GetTimestamp();
        switch (streamEvent)
        {
            case ContentDelta:
                _firstContentAt ??= now;
                Token(now);
                break;
            case ReasoningDelta:
                _firstReasoningAt ??= now;
                Token(now);
                break;
            case ContentReclassifiedAsReasoning:
                // What looked like the answer was thinking: the answer has not started yet.
                _firstReasoningAt ??= _firstContentAt;
                _firstContentAt = null;
                break;
            case ToolCallStreaming:
                Token(now);
                break;
            case UsageReported u:
                _usage = u.Usage;
                break;
            case TimingsReported t:
                _timings = Merge(_timings, t.Timings);
                break;
            case StreamEnded:
                _endedAt ??= now;
                break;
        }
    }

    /// <summary>The figures so far.</summary>
    public MessageMetrics Snapshot()
    {
        var end = _endedAt ?? _time.GetTimestamp();
        var completion = _usage is { CompletionTokens: > 0 } usage ? usage.CompletionTokens : (_pieces > 0 ? _pieces : (int?)null);
        double? tokensPerSecond = null;
        if (completion is > 1 && _firstTokenAt is { } first && _lastTokenAt is { } last && last > first)
        {
            tokensPerSecond = (completion.Value - 1) / _time.GetElapsedTime(first, last).TotalSeconds;
        }

        TimeSpan? thinking = _firstReasoningAt is { } thinkStart
            ? _time.GetElapsedTime(thinkStart, _firstContentAt ?? _lastTokenAt ?? end)
            : null;

        return new MessageMetrics(
            _firstTokenAt is { } ft ? _time.GetElapsedTime(_startedAt, ft) : null,
            thinking,
            _time.GetElapsedTime(_startedAt, end),
            _usage?.PromptTokens,
            completion,
            _usage?.CachedPromptTokens,
            tokensPerSecond,
            _usage is not { CompletionTokens: > 0 } && completion is not null,
            _timings?.PredictedPerSecond,
            _timings?.PeakMemoryGb);
    }

    private void Token(long now)
    {
        _firstTokenAt ??= now;
        _lastTokenAt = now;
        _pieces++;
    }

    private static EngineTimings Merge(EngineTimings? old, EngineTimings next) => old is null
        ? next
        : new EngineTimings(
            next.PredictedPerSecond ?? old.PredictedPerSecond,
            next.PromptPerSecond ?? old.PromptPerSecond,
            next.PromptTokens ?? old.PromptTokens,
            next.PredictedTokens ?? old.PredictedTokens,
            next.PeakMemoryGb ?? old.PeakMemoryGb);
}
