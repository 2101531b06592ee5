using System.Collections.Concurrent;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using MlxManager.Core.Chat;

namespace MlxManager.Web.Chat;

/// <summary>
/// Runs chat turns in the background (one per conversation at a time) and turns their events into the SSE events
/// the chat page reads: <c>status</c>, <c>round</c>, <c>prefill</c>, <c>thinking</c> (delta text, or with <c>full</c> the whole
/// thinking so far), <c>thinking-reset</c> (text to put before the thinking, after a lone closing tag), <c>answer</c> (the
/// answer so far as safe HTML, re-rendered at most every <see cref="RenderInterval"/>, the first piece at once: either
/// whole, or with <c>at</c> as a delta — keep the first <c>at</c> characters of the previous HTML, append <c>html</c>),
/// <c>tool-streaming</c>, <c>tool-call</c>, <c>tool-result</c>, <c>completed</c> (an assistant message ended, with its figures),
/// <c>saved</c>, <c>failure</c> (engine error) and last <c>done</c>. Each event carries a growing id, so a reconnecting
/// EventSource resumes after the last one it saw (Last-Event-ID). A round's answer and thinking are sent whole again
/// once their deltas since the last whole copy add up to half its size: the whole copy replaces them for late readers
/// (<see cref="ChatTurn"/>), so a turn keeps at most about 1.5× its answer and thinking, however long it ran.
/// </summary>
public sealed partial class ChatTurns(ChatTurnRunner runner, ChatMarkdown markdown, IHostApplicationLifetime lifetime, TimeProvider time, ILogger<ChatTurns> logger)
{
    /// <summary>How often the growing answer is re-rendered at most (Markdown of the whole answer each time).</summary>
    public static readonly TimeSpan RenderInterval = TimeSpan.FromMilliseconds(60);

    /// <summary>How long a finished turn stays readable (for a browser that connects late).</summary>
    public static readonly TimeSpan Retention = TimeSpan.FromMinutes(2);

    // Events are read by EventSource and JSON.parse, never placed in a page as script: HTML characters need no escaping,
    // which keeps the answer's HTML (most of what is sent and kept) at its own size.
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly ConcurrentDictionary<Guid, ChatTurn> _turns = new();

    /// <summary>The running turn of a conversation, if any.</summary>
    public ChatTurn? RunningFor(int conversationId) =>
        _turns.Values.FirstOrDefault(t => t.ConversationId == conversationId && !t.IsCompleted);

    /// <summary>The turn, if it exists and belongs to <paramref name="userId"/>.</summary>
    public ChatTurn? Find(Guid turnId, string userId)
    {
        Purge();
        return _turns.TryGetValue(turnId, out var turn) && turn.UserId == userId ? turn : null;
    }

    /// <summary>Starts answering the last user message of the conversation; null when a turn is already running.</summary>
    public ChatTurn? Start(string userId, int conversationId)
    {
        Purge();
        lock (_turns)
        {
            if (RunningFor(conversationId) is not null)
            {
                return null;
            }

            var turn = new ChatTurn(Guid.NewGuid(), userId, conversationId, lifetime.ApplicationStopping);
            _turns[turn.Id] = turn;
            _ = Task.Run(() => RunAsync(turn));
            return turn;
        }
    }

    private async Task RunAsync(ChatTurn turn)
    {
        var view = new TurnView(turn, markdown);
        using var flusher = new CancellationTokenSource();
        var flushing = FlushPeriodicallyAsync(view, flusher.Token);
        try
        {
            await foreach (var e in runner.RunAsync(turn.UserId, turn.ConversationId, turn.Cancellation.Token).ConfigureAwait(false))
            {
                view.Apply(e);
            }
        }
        catch (OperationCanceledException) when (turn.Cancellation.IsCancellationRequested)
        {
            // Stop (or shutdown) before the engine was asked — while tools connect, attachments load or frames are
            // extracted: a requested stop, not a failure. Stops during the answer end inside the tool loop.
            view.Apply(new TurnEnded(TurnOutcome.Stopped, null));
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // The page must hear that the turn died, whatever happened; the details go to the log.
            LogTurnFailed(logger, turn.ConversationId, ex);
            view.Apply(new TurnEnded(TurnOutcome.Failed, "The chat failed unexpectedly: " + ex.Message));
        }
        finally
        {
            await flusher.CancelAsync().ConfigureAwait(false);
            await flushing.ConfigureAwait(false);
            view.Flush();
            turn.Complete(time.GetUtcNow());
            turn.Cancellation.Dispose();
        }
    }

    private static async Task FlushPeriodicallyAsync(TurnView view, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(RenderInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                view.Flush();
            }
        }
        catch (OperationCanceledException)
        {
            // The turn ended; its last flush happens in RunAsync.
        }
    }

    private void Purge()
    {
        var cutoff = time.GetUtcNow() - Retention;
        foreach (var (id, turn) in _turns)
        {
            if (turn.CompletedAt is { } at && at < cutoff)
            {
                _turns.TryRemove(id, out _);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "A chat turn of conversation {ConversationId} failed")]
    private static partial void LogTurnFailed(ILogger logger, int conversationId, Exception exception);

    /// <summary>Folds runner events into SSE events, batching answer and thinking text between flushes.</summary>
    private sealed class TurnView(ChatTurn turn, ChatMarkdown markdown)
    {
        private readonly Lock _gate = new();
        private readonly StringBuilder _answer = new();
        private readonly StringBuilder _pendingThinking = new();
        private readonly StringBuilder _thinking = new();
        private string _answerHtml = "";
        private long _answerDeltaBytes;
        private long _thinkingDeltaBytes;
        private int _round;
        private bool _answerDirty;
        private bool _answerShown;
        private bool _thinkingShown;

        public void Apply(ChatStreamEvent e)
        {
            lock (_gate)
            {
                switch (e)
                {
                    case ContentDelta d:
                        _answer.Append(d.Text);
                        _answerDirty = true;
                        if (!_answerShown)
                        {
                            FlushLocked(); // the first piece goes out at once: time to first token is what users feel
                        }

                        return;
                    case ReasoningDelta r:
                        _pendingThinking.Append(r.Text);
                        if (!_thinkingShown)
                        {
                            FlushLocked();
                        }

                        return;
                    case ContentReclassifiedAsReasoning moved:
                        FlushLocked();
                        var text = _answer.ToString();
                        var length = text.StartsWith(moved.Text, StringComparison.Ordinal) ? moved.Text.Length : text.Length;
                        _answer.Remove(0, length);
                        _thinking.Insert(0, text[..length]);
                        Publish("thinking-reset", new { text = text[..length] }, ThinkingChannel);
                        _answerDirty = true;
                        _answerShown = _answer.Length > 0;
                        FlushLocked();
                        return;
                }

                FlushLocked();
                switch (e)
                {
                    case AssistantRoundStarted round:
                        _round++;
                        _answer.Clear();
                        _thinking.Clear();
                        _answerHtml = "";
                        _answerDeltaBytes = 0;
                        _thinkingDeltaBytes = 0;
                        _answerShown = false;
                        _thinkingShown = false;
                        Publish("round", new { round = round.Round, toolsOffered = round.ToolsOffered });
                        break;
                    case PrefillProgress p:
                        Publish("prefill", new { done = p.Done, total = p.Total, fraction = Math.Round(p.Fraction, 4) });
                        break;
                    case ServerWaiting waiting:
                        Publish("status", new { kind = "waiting", text = $"The server of {waiting.ServerName} is {(waiting.State == Core.Chat.Servers.ChatServerState.Starting ? "starting" : "loading its model")}; the answer starts when it is ready." });
                        break;
                    case ServerReady ready:
                        Publish("status", new { kind = "ready", text = $"{ready.ServerName} is ready." });
                        break;
                    case ChatNotice notice:
                        Publish("status", new { kind = "notice", text = notice.Message });
                        break;
                    case ToolCallStreaming streaming:
                        Publish("tool-streaming", new { index = streaming.Index, name = streaming.Name });
                        break;
                    case ToolExecutionStarted started:
                        Publish("tool-call", new { id = started.Call.Id, name = started.Call.Name, arguments = started.Call.Arguments });
                        break;
                    case ToolExecutionFinished finished:
                        Publish("tool-result", new
                        {
                            id = finished.Call.Id,
                            name = finished.Call.Name,
                            content = finished.Result.Content,
                            isError = finished.Result.IsError,
                            ms = (int)finished.Duration.TotalMilliseconds,
                        });
                        break;
                    case ToolRoundLimitReached limit:
                        Publish("status", new { kind = "notice", text = $"The model reached the limit of {limit.Limit} tool rounds; it is asked to answer without tools." });
                        break;
                    case MessageCompleted { Message: AssistantMessage } completed:
                        var m = completed.Metrics;
                        Publish("completed", new
                        {
                            incomplete = completed.Incomplete,
                            finishReason = completed.FinishReason,
                            metrics = m is null ? null : new
                            {
                                ttftMs = Ms(m.TimeToFirstToken),
                                thinkingMs = Ms(m.ThinkingDuration),
                                durationMs = Ms(m.Duration),
                                promptTokens = m.PromptTokens,
                                completionTokens = m.CompletionTokens,
                                tokensPerSecond = m.TokensPerSecond is { } tps && double.IsFinite(tps) ? Math.Round(tps, 1) : (double?)null,
                                estimated = m.TokensEstimated,
                            },
                        });
                        break;
                    case MessageSaved saved:
                        Publish("saved", new { id = saved.MessageId, role = saved.Role.ToString().ToLowerInvariant() });
                        break;
                    case EngineError error:
                        Publish("failure", new { message = error.Message });
                        break;
                    case TurnEnded ended:
                        Publish("done", new { outcome = ended.Outcome.ToString().ToLowerInvariant(), error = ended.Error });
                        break;
                }
            }
        }

        public void Flush()
        {
            lock (_gate)
            {
                FlushLocked();
            }
        }

        private void FlushLocked()
        {
            if (_pendingThinking.Length > 0)
            {
                var delta = _pendingThinking.ToString();
                _thinking.Append(delta);
                _pendingThinking.Clear();
                _thinkingShown = true;
                _thinkingDeltaBytes += delta.Length;
                if (_thinkingDeltaBytes > _thinking.Length / 2)
                {
                    Publish("thinking", new { text = _thinking.ToString(), full = true }, ThinkingChannel, snapshot: true);
                    _thinkingDeltaBytes = 0;
                }
                else
                {
                    Publish("thinking", new { text = delta }, ThinkingChannel);
                }
            }

            if (_answerDirty)
            {
                var html = markdown.Render(_answer.ToString());
                var at = SharedPrefix(_answerHtml, html);
                _answerDeltaBytes += html.Length - at;
                if (_answerHtml.Length == 0 || _answerDeltaBytes > html.Length / 2)
                {
                    Publish("answer", new { html }, AnswerChannel, snapshot: true);
                    _answerDeltaBytes = 0;
                }
                else
                {
                    Publish("answer", new { html = html[at..], at }, AnswerChannel);
                }

                _answerHtml = html;
                _answerDirty = false;
                _answerShown = _answer.Length > 0;
            }
        }

        private string AnswerChannel => $"answer:{_round}";

        private string ThinkingChannel => $"thinking:{_round}";

        /// <summary>Length of the common start of both texts, never splitting a surrogate pair.</summary>
        private static int SharedPrefix(string before, string after)
        {
            var length = before.AsSpan().CommonPrefixLength(after);
            return length > 0 && char.IsHighSurrogate(after[length - 1]) ? length - 1 : length;
        }

        private void Publish(string type, object data, string? channel = null, bool snapshot = false) =>
            turn.Publish(type, JsonSerializer.Serialize(data, Json), channel, snapshot);

        private static int? Ms(TimeSpan? span) => span is { } s ? (int)Math.Round(s.TotalMilliseconds) : null;
    }
}
