using System.Text;

namespace MlxManager.Core.Engines;

/// <summary>
/// Recognises a Python thread dying with an uncaught exception, as printed by <c>threading.excepthook</c>:
/// <code>
/// Exception in thread Thread-1 (_generate):
/// Traceback (most recent call last):
///   File "...", line 1, in run
///     ...
/// ValueError: Model type foo not supported.
/// </code>
/// Chained exceptions ("During handling of the above exception…") are followed to their last exception,
/// which is the one worth showing. Request-handler errors of Python's HTTP server print a different
/// header and are deliberately not matched.
/// </summary>
public sealed class PythonThreadCrashWatcher : IFatalLogWatcher
{
    private const int MaxLines = 400;
    private readonly StringBuilder _detail = new();
    private State _state = State.Idle;
    private string? _header;
    private string? _lastException;
    private int _lines;

    private enum State
    {
        Idle,
        InTraceback,
        AfterException,
    }

    /// <inheritdoc />
    public FatalLogMatch? Observe(string line)
    {
        switch (_state)
        {
            case State.Idle:
                Begin(line);
                return null;

            case State.InTraceback:
                Append(line);
                if (IsExceptionLine(line))
                {
                    _lastException = line.Trim();
                    _state = State.AfterException;
                }

                return null;

            default: // AfterException
                if (line.Length == 0 || IsChainingLine(line) || IsTracebackStart(line))
                {
                    Append(line);
                    if (line.Length != 0)
                    {
                        _state = State.InTraceback;
                    }

                    return null;
                }

                var match = Complete();
                Begin(line);
                return match;
        }
    }

    /// <inheritdoc />
    public FatalLogMatch? Flush() => _state == State.Idle ? null : Complete();

    private void Begin(string line)
    {
        if (!line.StartsWith("Exception in thread ", StringComparison.Ordinal))
        {
            return;
        }

        _state = State.InTraceback;
        _header = line.TrimEnd();
        _lastException = null;
        _detail.Clear();
        _lines = 0;
        Append(line);
    }

    private void Append(string line)
    {
        if (_lines++ < MaxLines)
        {
            _detail.Append(line).Append('\n');
        }
    }

    private FatalLogMatch Complete()
    {
        var summary = _lastException ?? _header ?? "A Python thread crashed.";
        var match = new FatalLogMatch(summary, _detail.ToString().TrimEnd('\n'));
        _state = State.Idle;
        _detail.Clear();
        _lastException = null;
        _header = null;
        return match;
    }

    private static bool IsTracebackStart(string line) =>
        line.StartsWith("Traceback (most recent call last):", StringComparison.Ordinal);

    private static bool IsChainingLine(string line) =>
        line.StartsWith("During handling of the above exception", StringComparison.Ordinal)
        || line.StartsWith("The above exception was the direct cause", StringComparison.Ordinal);

    // "ValueError: message", "mlx_lm.SomeError: message" or a bare "KeyboardInterrupt": an unindented
    // dotted identifier followed by ':' or the end of the line.
    private static bool IsExceptionLine(string line)
    {
        if (line.Length == 0 || !(char.IsAsciiLetter(line[0]) || line[0] == '_') || IsTracebackStart(line) || IsChainingLine(line))
        {
            return false;
        }

        var i = 0;
        while (i < line.Length && (char.IsAsciiLetterOrDigit(line[i]) || line[i] is '_' or '.'))
        {
            i++;
        }

        return i == line.Length || line[i] == ':';
    }
}
