namespace MlxManager.Core.Chat;

/// <summary>
/// One normalised event of a chat completion stream. Every engine shape (mlx_lm.server, mlx_vlm.server,
/// mlx-openai-server, any OpenAI-compatible server) is turned into this one vocabulary by
/// <see cref="ChatStreamReader"/>; <see cref="ToolLoop"/> adds the tool and turn events.
/// </summary>
public abstract record ChatStreamEvent;

/// <summary>A piece of the visible answer.</summary>
public sealed record ContentDelta(string Text) : ChatStreamEvent;

/// <summary>A piece of the model's thinking (shown in the thinking panel, never sent back to the model).</summary>
public sealed record ReasoningDelta(string Text) : ChatStreamEvent;

/// <summary>
/// A lone closing think tag arrived: the text already sent as <see cref="ContentDelta"/> in this stream
/// (exactly <paramref name="Text"/>) was thinking. Consumers move it from the answer to the thinking panel.
/// </summary>
public sealed record ContentReclassifiedAsReasoning(string Text) : ChatStreamEvent;

/// <summary>Prompt processing progress from the engine (mlx_lm.server's <c>: keepalive done/total</c> comments).</summary>
public sealed record PrefillProgress(long Done, long Total) : ChatStreamEvent
{
    /// <summary>Fraction in [0, 1], or 0 when the total is unknown.</summary>
    public double Fraction => Total <= 0 ? 0 : Math.Clamp((double)Done / Total, 0, 1);
}

/// <summary>The engine started streaming a tool call (its function name is known); arguments may still be arriving.</summary>
public sealed record ToolCallStreaming(int Index, string Name) : ChatStreamEvent;

/// <summary>All tool calls of this assistant message, complete, in index order. Sent once, before <see cref="Finished"/>.</summary>
public sealed record ToolCallsCompleted(IReadOnlyList<ToolCall> Calls) : ChatStreamEvent;

/// <summary>Token counts reported by the engine (<c>usage</c>).</summary>
public sealed record UsageReported(TokenUsage Usage) : ChatStreamEvent;

/// <summary>Engine-side timings (mlx_vlm.server's <c>timings</c> object).</summary>
public sealed record TimingsReported(EngineTimings Timings) : ChatStreamEvent;

/// <summary>The engine's <c>finish_reason</c>: <c>stop</c>, <c>length</c>, <c>tool_calls</c>, …</summary>
public sealed record Finished(string Reason) : ChatStreamEvent;

/// <summary>
/// The engine failed: an <c>{"error": …}</c> payload, a non-2xx status, a connection lost mid-answer
/// or a stream that ended before the answer was finished. The stream ends after it.
/// </summary>
public sealed record EngineError(string Message, int? StatusCode = null) : ChatStreamEvent;

/// <summary>
/// Always the last event of one completion stream. <paramref name="Complete"/> is true when the engine
/// finished the answer (a finish reason or <c>[DONE]</c>) without an error.
/// </summary>
public sealed record StreamEnded(bool Complete) : ChatStreamEvent;

/// <summary>A complete tool call requested by the model.</summary>
/// <param name="Id">The engine's call id, or a generated one when the engine sent none.</param>
/// <param name="Name">Function name (empty if the engine never sent one).</param>
/// <param name="Arguments">The arguments as the JSON text the model produced (may be invalid JSON).</param>
public sealed record ToolCall(string Id, string Name, string Arguments);

/// <summary>Token counts of one completion.</summary>
public sealed record TokenUsage(int PromptTokens, int CompletionTokens, int TotalTokens, int? CachedPromptTokens);

/// <summary>Timings some engines report. All optional: each engine sends a different subset.</summary>
public sealed record EngineTimings(
    double? PredictedPerSecond,
    double? PromptPerSecond,
    int? PromptTokens,
    int? PredictedTokens,
    double? PeakMemoryGb);
