namespace MlxManager.Core.Servers;

/// <summary>
/// The newest lines of a run's log in memory, numbered 1, 2, 3… in the order they were added; older lines drop out
/// (the log file keeps them). Not thread-safe: <see cref="RunLog"/> holds its lock around every call.
/// </summary>
internal sealed class LogLineRing(int capacity)
{
    private readonly LogLine[] _lines = new LogLine[Math.Max(16, capacity)];
    private long _first = 1;
    private int _count;

    public int Capacity => _lines.Length;

    /// <summary>The sequence number of the newest line (0 when empty).</summary>
    public long LastSequence { get; private set; }

    /// <summary>Numbers and keeps a line, dropping the oldest when full.</summary>
    public LogLine Add(DateTimeOffset at, string text, bool fromManager)
    {
        var line = new LogLine(++LastSequence, at, text, fromManager);
        if (_count < _lines.Length)
        {
            _count++;
        }
        else
        {
            _first++;
        }

        _lines[(int)((line.Sequence - 1) % _lines.Length)] = line;
        return line;
    }

    /// <summary>The newest <paramref name="count"/> lines, oldest first; only the engine's when <paramref name="engineOnly"/>.</summary>
    public IReadOnlyList<LogLine> Tail(int count, bool engineOnly)
    {
        var result = new List<LogLine>(Math.Min(count, _count));
        for (var i = _count - 1; i >= 0 && result.Count < count; i--)
        {
            var line = _lines[(int)((_first - 1 + i) % _lines.Length)];
            if (!engineOnly || !line.FromManager)
            {
                result.Add(line);
            }
        }

        result.Reverse();
        return result;
    }

    /// <summary>Lines with a sequence above <paramref name="afterSequence"/>, at most <paramref name="max"/> (the newest ones).</summary>
    public LogSlice After(long afterSequence, int max)
    {
        var first = Math.Max(afterSequence + 1, LastSequence - Math.Min(max, _count) + 1);
        first = Math.Max(first, _first);
        var skipped = Math.Max(0, first - (afterSequence + 1));
        var lines = new List<LogLine>();
        for (var seq = first; seq <= LastSequence; seq++)
        {
            lines.Add(_lines[(int)((seq - 1) % _lines.Length)]);
        }

        return new LogSlice(lines, afterSequence >= LastSequence ? 0 : skipped, LastSequence);
    }
}
