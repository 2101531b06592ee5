using System.Runtime.CompilerServices;
using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace MlxManager.Core.Chat;

/// <summary>One completion request of a turn, as the tool loop asks for it.</summary>
/// <param name="Messages">The conversation to send: history, the user's message and this turn's messages so far.</param>
/// <param name="OfferTools">False for the last round after the round limit: the model must answer in prose.</param>
/// <param name="Round">1 for the first request of the turn.</param>
public sealed record CompletionRound(IReadOnlyList<ChatMessage> Messages, bool OfferTools, int Round);

/// <summary>Streams one completion; the web layer builds the request, posts it and reads it with <see cref="ChatStreamReader"/>.</summary>
public delegate IAsyncEnumerable<ChatStreamEvent> CompletionStreamer(CompletionRound round, CancellationToken cancellationToken);

/// <summary>How a turn ended.</summary>
public enum TurnOutcome
{
    /// <summary>The model answered.</summary>
    Answered,

    /// <summary>The user stopped it.</summary>
    Stopped,

    /// <summary>The engine failed (error, crash, lost connection); the partial answer is kept.</summary>
    Failed,

    /// <summary>The model still wanted tools after the round limit.</summary>
    RoundLimitReached,
}

/// <summary>A new assistant round (one completion request) starts.</summary>
public sealed record AssistantRoundStarted(int Round, bool ToolsOffered) : ChatStreamEvent;

/// <summary>A tool call is about to run.</summary>
public sealed record ToolExecutionStarted(ToolCall Call) : ChatStreamEvent;

/// <summary>A tool call ran (successfully or not: see <see cref="ToolExecutionResult.IsError"/>).</summary>
public sealed record ToolExecutionFinished(ToolCall Call, ToolExecutionResult Result, TimeSpan Duration) : ChatStreamEvent;

/// <summary>The round limit was reached; the model's further calls were answered with an error.</summary>
public sealed record ToolRoundLimitReached(int Limit) : ChatStreamEvent;

/// <summary>
/// A message of this turn is final: append it to the conversation's history. Assistant messages carry their
/// metrics and the engine's finish reason (<c>length</c> means the answer hit the token limit);
/// <paramref name="Incomplete"/> marks an answer cut by Stop or by an engine failure.
/// </summary>
public sealed record MessageCompleted(ChatMessage Message, MessageMetrics? Metrics, bool Incomplete, string? FinishReason = null) : ChatStreamEvent;

/// <summary>The last event of a turn.</summary>
public sealed record TurnEnded(TurnOutcome Outcome, string? Error) : ChatStreamEvent;

/// <summary>Settings of the tool loop (configuration section <c>Chat</c>).</summary>
public sealed record ToolLoopOptions
{
    /// <summary>How many rounds of tool calls one user message may cause (<c>Chat:MaxToolRounds</c>).</summary>
    public int MaxToolRounds { get; init; } = 5;
}

/// <summary>
/// Runs one user turn: streams a completion, executes the tool calls it asks for, sends the results back, and
/// repeats until the model answers without calls. After <see cref="ToolLoopOptions.MaxToolRounds"/> rounds of
/// calls, further calls are answered with an error and one last round without tools lets the model answer.
/// Yields every stream event of every round plus tool and turn events; each message to append to history comes
/// as <see cref="MessageCompleted"/>, and <see cref="TurnEnded"/> is always last — also after Stop.
/// </summary>
public sealed partial class ToolLoop
{
    private readonly IToolExecutor? _tools;
    private readonly TimeProvider _time;
    private readonly ILogger<ToolLoop> _logger;

    /// <summary>Creates a loop; <paramref name="tools"/> is null when the conversation has tools switched off.</summary>
    public ToolLoop(IToolExecutor? tools, TimeProvider time, ILogger<ToolLoop> logger)
    {
        _tools = tools;
        _time = time;
        _logger = logger;
    }

    /// <summary>Runs the turn for <paramref name="conversation"/> (which already ends with the user's message).</summary>
    public async IAsyncEnumerable<ChatStreamEvent> RunAsync(
        IReadOnlyList<ChatMessage> conversation,
        CompletionStreamer streamCompletion,
        ToolLoopOptions options,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(conversation);
        ArgumentNullException.ThrowIfNull(streamCompletion);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfNegative(options.MaxToolRounds);

        var messages = new List<ChatMessage>(conversation);
        var toolRounds = 0;
        var offerTools = _tools is not null && options.MaxToolRounds > 0;
        var answerWithoutToolsAsked = false;
        for (var round = 1; ; round++)
        {
            yield return new AssistantRoundStarted(round, offerTools);
            var builder = new AssistantTurnBuilder();
            var metrics = new MessageMetricsRecorder(_time);
            var failure = (string?)null;
            var stopped = false;

            var stream = streamCompletion(new CompletionRound(messages, offerTools, round), cancellationToken);
            var enumerator = stream.GetAsyncEnumerator(cancellationToken);
            try
            {
                while (true)
                {
                    var step = await NextAsync(enumerator, cancellationToken).ConfigureAwait(false);
                    if (step.Stopped)
                    {
                        stopped = true;
                        break;
                    }

                    if (step.Failure is not null)
                    {
                        failure = step.Failure;
                        var error = new EngineError(failure);
                        builder.Apply(error);
                        yield return error;
                        break;
                    }

                    if (step.Event is null)
                    {
                        break;
                    }

                    builder.Apply(step.Event);
                    metrics.Observe(step.Event);
                    yield return step.Event;
                }
            }
            finally
            {
                await DisposeQuietlyAsync(enumerator).ConfigureAwait(false);
            }

            metrics.Observe(new StreamEnded(builder.Complete));
            var assistant = builder.ToMessage();
            failure ??= builder.Error;
            if (!builder.Ended && failure is null && !stopped)
            {
                failure = "The answer stream ended unexpectedly.";
            }

            var incomplete = stopped || failure is not null || !builder.Complete;
            if (stopped || failure is not null)
            {
                // Calls of a cut answer are not executed; the request builder answers them as "not executed".
                yield return new MessageCompleted(assistant, metrics.Snapshot(), incomplete, builder.FinishReason);
                yield return new TurnEnded(stopped ? TurnOutcome.Stopped : TurnOutcome.Failed, stopped ? null : failure);
                yield break;
            }

            yield return new MessageCompleted(assistant, metrics.Snapshot(), incomplete, builder.FinishReason);
            messages.Add(assistant);
            if (assistant.Calls.Count == 0)
            {
                yield return new TurnEnded(TurnOutcome.Answered, null);
                yield break;
            }

            var execute = offerTools && toolRounds < options.MaxToolRounds;
            if (!execute && _tools is not null && options.MaxToolRounds > 0 && !answerWithoutToolsAsked)
            {
                yield return new ToolRoundLimitReached(options.MaxToolRounds);
            }

            foreach (var call in assistant.Calls)
            {
                ToolExecutionResult result;
                TimeSpan duration;
                if (!execute)
                {
                    result = ToolExecutionResult.Failure(_tools is null || options.MaxToolRounds == 0
                        ? "Tools are switched off in this conversation; answer without them."
                        : $"The limit of {options.MaxToolRounds} tool rounds for one message was reached; the call was not executed. Answer with what you have.");
                    duration = TimeSpan.Zero;
                }
                else
                {
                    yield return new ToolExecutionStarted(call);
                    var started = _time.GetTimestamp();
                    var execution = await ExecuteAsync(call, cancellationToken).ConfigureAwait(false);
                    if (execution.Stopped)
                    {
                        yield return new TurnEnded(TurnOutcome.Stopped, null);
                        yield break;
                    }

                    result = execution.Result!;
                    duration = _time.GetElapsedTime(started);
                }

                yield return new ToolExecutionFinished(call, result, duration);
                var toolMessage = new ToolResultMessage(call.Id, call.Name, result.Content, result.IsError);
                messages.Add(toolMessage);
                yield return new MessageCompleted(toolMessage, null, false);
            }

            if (execute)
            {
                toolRounds++;
                continue;
            }

            if (answerWithoutToolsAsked)
            {
                // Even the round without tools asked for tools: stop rather than loop.
                yield return new TurnEnded(TurnOutcome.RoundLimitReached, "The model kept calling tools after the tool round limit.");
                yield break;
            }

            // One last round without tools, so the model answers in prose.
            answerWithoutToolsAsked = true;
            offerTools = false;
        }
    }

    private async Task<Step> NextAsync(IAsyncEnumerator<ChatStreamEvent> enumerator, CancellationToken cancellationToken)
    {
        try
        {
            return await enumerator.MoveNextAsync().ConfigureAwait(false) ? new Step(enumerator.Current, null, false) : default;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return new Step(null, null, true);
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or TimeoutException
            or OperationCanceledException)
        {
            // Engine unreachable, connection refused or reset, or the HTTP client's own timeout.
            LogCompletionFailed(_logger, ex);
            return new Step(null, "The engine could not be reached: " + ex.Message, false);
        }
    }

    private async Task<(ToolExecutionResult? Result, bool Stopped)> ExecuteAsync(ToolCall call, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(call.Name))
        {
            return (ToolExecutionResult.Failure("The tool call has no function name."), false);
        }

        if (!IsJsonObjectOrEmpty(call.Arguments))
        {
            return (ToolExecutionResult.Failure($"The arguments of {call.Name} are not a valid JSON object: {call.Arguments}"), false);
        }

        try
        {
            return (await _tools!.ExecuteAsync(call, cancellationToken).ConfigureAwait(false), false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return (null, true);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // A broken tool server must not end the chat: the model hears about it and can answer anyway.
            LogToolFailed(_logger, call.Name, ex);
            return (ToolExecutionResult.Failure($"The tool {call.Name} failed: {ex.Message}"), false);
        }
    }

    private async Task DisposeQuietlyAsync(IAsyncEnumerator<ChatStreamEvent> enumerator)
    {
        try
        {
            await enumerator.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or OperationCanceledException)
        {
            LogCompletionFailed(_logger, ex);
        }
    }

    private static bool IsJsonObjectOrEmpty(string arguments)
    {
        if (string.IsNullOrWhiteSpace(arguments))
        {
            return true;
        }

        try
        {
            using var document = JsonDocument.Parse(arguments);
            return document.RootElement.ValueKind == JsonValueKind.Object;
        }
        catch (JsonException)
        {
            return false; // reported to the model as a tool error by the caller
        }
    }

    private readonly record struct Step(ChatStreamEvent? Event, string? Failure, bool Stopped);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The completion stream failed")]
    private static partial void LogCompletionFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The tool {Tool} failed")]
    private static partial void LogToolFailed(ILogger logger, string tool, Exception exception);
}
