using System.Text;

namespace MlxManager.Core.Chat;

/// <summary>
/// Folds the events of one completion stream into the assistant message they describe: answer text, thinking,
/// tool calls, finish reason and error. The web page uses <see cref="Content"/> to re-render the growing answer;
/// <see cref="ToMessage"/> gives what is saved to history.
/// </summary>
public sealed class AssistantTurnBuilder
{
    private readonly StringBuilder _content = new();
    private readonly StringBuilder _reasoning = new();

    /// <summary>The answer so far.</summary>
    public string Content => _content.ToString();

    /// <summary>The thinking so far.</summary>
    public string Reasoning => _reasoning.ToString();

    /// <summary>Tool calls, once the stream reported them complete.</summary>
    public IReadOnlyList<ToolCall> ToolCalls { get; private set; } = [];

    /// <summary>The engine's finish reason, if it sent one.</summary>
    public string? FinishReason { get; private set; }

    /// <summary>The engine's error, if any.</summary>
    public string? Error { get; private set; }

    /// <summary>True once <see cref="StreamEnded"/> arrived.</summary>
    public bool Ended { get; private set; }

    /// <summary>True when the stream ended with a finished answer (not stopped, not failed).</summary>
    public bool Complete { get; private set; }

    /// <summary>True while the model is thinking (thinking received and no answer yet).</summary>
    public bool IsThinking => _reasoning.Length > 0 && _content.Length == 0 && ToolCalls.Count == 0;

    /// <summary>Applies one event; events this builder doesn't care about are ignored.</summary>
    public void Apply(ChatStreamEvent streamEvent)
    {
        switch (streamEvent)
        {
            case ContentDelta d:
                _content.Append(d.Text);
                break;
            case ReasoningDelta r:
                _reasoning.Append(r.Text);
                break;
            case ContentReclassifiedAsReasoning moved:
                var content = _content.ToString();
                var movedLength = content.StartsWith(moved.Text, StringComparison.Ordinal) ? moved.Text.Length : content.Length;
                _reasoning.Insert(0, content[..movedLength]);
                _content.Remove(0, movedLength);
                break;
            case ToolCallsCompleted calls:
                ToolCalls = calls.Calls;
                break;
            case Finished f:
                FinishReason = f.Reason;
                break;
            case EngineError e:
                Error = e.Message;
                break;
            case StreamEnded end:
                Ended = true;
                Complete = end.Complete;
                break;
        }
    }

    /// <summary>The assistant message as it stands (trimmed; thinking kept for display).</summary>
    public AssistantMessage ToMessage()
    {
        var reasoning = _reasoning.ToString().Trim();
        return new AssistantMessage(_content.ToString().Trim(), reasoning.Length == 0 ? null : reasoning, ToolCalls.Count == 0 ? null : ToolCalls);
    }
}
