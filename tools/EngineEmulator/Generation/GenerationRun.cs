using System.Runtime.CompilerServices;

namespace MlxManager.EngineEmulator.Generation;

/// <summary>Something that happened while generating, in order; each flavour renders these in its own shapes.</summary>
public abstract record GenerationEvent;

public sealed record PrefillProgress(int Done, int Total) : GenerationEvent;
public sealed record ReasoningDelta(string Text) : GenerationEvent;
public sealed record ContentDelta(string Text) : GenerationEvent;
public sealed record ToolCallOpened(PlannedToolCall Call) : GenerationEvent;
public sealed record ToolCallArguments(PlannedToolCall Call, string Text) : GenerationEvent;
public sealed record ToolCallClosed(PlannedToolCall Call) : GenerationEvent;
/// <summary>A call whose text was cut by <c>max_tokens</c>: engines drop it.</summary>
public sealed record ToolCallTruncated(PlannedToolCall Call) : GenerationEvent;
public sealed record GenerationFinished(string FinishReason, int PromptTokens, int CompletionTokens, int CachedTokens) : GenerationEvent;

/// <summary>The limits a request sets.</summary>
public sealed record GenerationLimits(long MaxTokens, IReadOnlyList<string> Stop);

/// <summary>Faults for every request: crash after a few streamed tokens, or hang before the first one.</summary>
public sealed record FaultHooks(bool CrashMidStream, bool HangBeforeFirstToken, Action Crash);

/// <summary>Plays a planned answer through the compute loop: prompt processing with progress, then one
/// token per step, honouring <c>max_tokens</c> (finish <c>length</c>) and stop strings (finish <c>stop</c>).
/// A natural end costs one more step for the end-of-sequence token, which counts as a completion token.</summary>
public static class GenerationRun
{
    /// <summary>After this many tokens a crash or hang fault strikes, so some of the answer has been streamed.</summary>
    public const int FaultAfterTokens = 3;

    public static async IAsyncEnumerable<GenerationEvent> RunAsync(PlannedAnswer answer, GenerationLimits limits, ComputeLoop loop,
        int promptTokens, int cachedTokens, int prefillStepSize, FaultHooks faults, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (faults.HangBeforeFirstToken) await Task.Delay(Timeout.Infinite, cancellationToken);
        var slot = loop.Begin(promptTokens - cachedTokens, prefillStepSize);
        try
        {
            await foreach (var (done, total) in slot.Progress.Reader.ReadAllAsync(cancellationToken))
                yield return new PrefillProgress(done, total);

            int generated = 0;
            var content = new System.Text.StringBuilder();
            PlannedToolCall? openCall = null;
            bool crash = faults.CrashMidStream || answer.Fault == PromptFault.Crash;
            bool hang = answer.Fault == PromptFault.Hang;

            foreach (var token in answer.Tokens)
            {
                if (generated >= limits.MaxTokens)
                {
                    if (openCall is not null) yield return new ToolCallTruncated(openCall);
                    yield return new GenerationFinished("length", promptTokens, generated, cachedTokens);
                    yield break;
                }
                if (generated == FaultAfterTokens && crash)
                {
                    // The GPU fails while computing the next token, so what was already streamed has had that long
                    // to leave the process (Kestrel writes flushed chunks to the socket asynchronously).
                    await slot.NextTokenAsync(cancellationToken);
                    await Task.Delay(TimeSpan.FromMilliseconds(150), cancellationToken);
                    faults.Crash();
                }
                if (generated == FaultAfterTokens && hang)
                {
                    // A stalled engine makes no progress: leave the loop so no core spins for the hung request.
                    loop.End(slot);
                    await Task.Delay(Timeout.Infinite, cancellationToken);
                }

                await slot.NextTokenAsync(cancellationToken);
                generated++;

                switch (token.Channel)
                {
                    case TokenChannel.Reasoning:
                        yield return new ReasoningDelta(token.Text);
                        break;
                    case TokenChannel.Content:
                        var before = content.Length;
                        content.Append(token.Text);
                        var hit = limits.Stop
                            .Select(s => (Stop: s, At: content.ToString().IndexOf(s, StringComparison.Ordinal)))
                            .Where(x => x.At >= 0).OrderBy(x => x.At).FirstOrDefault();
                        if (hit.Stop is not null)
                        {
                            if (hit.At > before) yield return new ContentDelta(content.ToString(before, hit.At - before));
                            yield return new GenerationFinished("stop", promptTokens, generated, cachedTokens);
                            yield break;
                        }
                        yield return new ContentDelta(token.Text);
                        break;
                    case TokenChannel.ToolCall when token.Role == ToolTokenRole.Open:
                        openCall = token.Call;
                        yield return new ToolCallOpened(token.Call!);
                        break;
                    case TokenChannel.ToolCall when token.Role == ToolTokenRole.Arguments:
                        yield return new ToolCallArguments(token.Call!, token.Text);
                        break;
                    case TokenChannel.ToolCall:
                        openCall = null;
                        yield return new ToolCallClosed(token.Call!);
                        break;
                }
            }

            string reason = "length";
            if (generated < limits.MaxTokens)
            {
                await slot.NextTokenAsync(cancellationToken);
                generated++;
                reason = answer.ToolCalls.Any() ? "tool_calls" : "stop";
            }
            yield return new GenerationFinished(reason, promptTokens, generated, cachedTokens);
        }
        finally
        {
            loop.End(slot);
        }
    }
}
