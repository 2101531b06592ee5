using System.Globalization;
using System.Text;

namespace MlxManager.Core.Servers;

/// <summary>One line of a server's log.</summary>
/// <param name="Sequence">1, 2, 3… within the run, in the order the manager read or wrote them.</param>
/// <param name="At">When the manager read the line (or wrote it, for its own lines).</param>
/// <param name="Text">The line, without its newline.</param>
/// <param name="FromManager">True for the manager's own lines (started, ready, stopping…), false for the engine's output.</param>
public sealed record LogLine(long Sequence, DateTimeOffset At, string Text, bool FromManager);

/// <summary>Lines after a sequence number, and whether some were dropped from memory meanwhile.</summary>
/// <param name="Lines">Oldest first.</param>
/// <param name="Skipped">Lines between the requested sequence and the first returned one that are no longer in memory (the log file has them).</param>
public sealed record LogSlice(IReadOnlyList<LogLine> Lines, long Skipped, long LastSequence);

/// <summary>
/// The log of one run. The engine writes its stdout and stderr straight into <see cref="OutputPath"/> (a file it
/// keeps open itself, so it never depends on the manager being alive); the manager tails that file, stamps each
/// complete line with the time it read it, and appends it to <see cref="LogPath"/> together with its own event
/// lines. The most recent lines stay in memory for the UI.
/// </summary>
/// <remarks>
/// Format of <see cref="LogPath"/>: <c>2026-11-26T14:02:03.123Z | engine line</c> and
/// <c>2026-11-26T14:02:03.123Z * manager line</c>. After a manager restart the tail resumes where the previous
/// manager stopped: the engine lines already in the log are counted and skipped in the output. Lines the engine
/// wrote while no manager was running are stamped when they are read (a manager line says so).
/// Rotation by size: once the log or the output file has grown past the limit, the output read so far is complete, and
/// the log becomes <see cref="RotatedPath"/> (replacing an older one) and starts again, and the output file is emptied in
/// place — the engine keeps its descriptor and, writing with O_APPEND, continues at the file's new start. Both restart
/// together, so a resuming manager still counts the log's engine lines to skip in the output. What the engine writes
/// between the last read and the emptying (microseconds) is lost. Line numbers and the lines in memory carry on.
/// Thread-safe: the run's watch loop reads output while pages read lines.
/// </remarks>
public sealed class RunLog : IDisposable
{
    /// <summary>Longer lines are cut (a progress bar without newlines must not grow one line for ever).</summary>
    public const int MaxLineLength = 16 * 1024;

    private const string EngineMark = " | ";
    private const string ManagerMark = " * ";
    private readonly Lock _lock = new();
    private readonly TimeProvider _time;
    private readonly LogLineRing _ring;
    private readonly OutputLines _output;
    private readonly long _maxBytes;
    private StreamWriter _log;
    private long _logBytes;
    private readonly List<string> _backlog = [];
    private bool _disposed;

    private RunLog(string outputPath, string logPath, TimeProvider time, long maxBytes, int capacity)
    {
        OutputPath = outputPath;
        LogPath = logPath;
        _time = time;
        _maxBytes = maxBytes;
        _ring = new LogLineRing(capacity);
        _output = new OutputLines(outputPath);
        _log = OpenLog(logPath, out _logBytes);
    }

    /// <summary>No size limit: the log is never rotated.</summary>
    public const long Unlimited = long.MaxValue;

    /// <summary>The engine's raw output file.</summary>
    public string OutputPath { get; }

    /// <summary>The timestamped log file.</summary>
    public string LogPath { get; }

    /// <summary>The sequence number of the newest line (0 when empty).</summary>
    public long LastSequence
    {
        get
        {
            lock (_lock)
            {
                return _ring.LastSequence;
            }
        }
    }

    /// <summary>Opens the log of a new run: both files are created empty. Rotated past <paramref name="maxBytes"/>.</summary>
    public static RunLog Create(string outputPath, string logPath, TimeProvider time, long maxBytes = Unlimited, int capacity = 2000)
    {
        File.WriteAllBytes(outputPath, []);
        File.WriteAllBytes(logPath, []);
        return new RunLog(outputPath, logPath, time, maxBytes, capacity);
    }

    /// <summary>Where a log's earlier lines go when it is rotated: <c>&lt;run&gt;.log.1</c>.</summary>
    public static string RotatedPath(string logPath) => logPath + ".1";

    /// <summary>The files that hold a run's whole log, oldest first: the rotated part (when there is one) and the log.</summary>
    public static IReadOnlyList<string> FilesOf(string logPath) =>
        File.Exists(RotatedPath(logPath)) ? [RotatedPath(logPath), logPath] : [logPath];

    /// <summary>
    /// Opens the log of a run started by an earlier manager: skips the output lines the log already holds and
    /// loads the last lines of the log into memory.
    /// </summary>
    public static RunLog Resume(string outputPath, string logPath, TimeProvider time, long maxBytes = Unlimited, int capacity = 2000)
    {
        if (!File.Exists(outputPath))
        {
            File.WriteAllBytes(outputPath, []);
        }

        var log = new RunLog(outputPath, logPath, time, maxBytes, capacity);
        log.LoadExisting();
        return log;
    }

    /// <summary>Reads what the engine wrote since the last call; returns the complete lines (also appended to the log file).</summary>
    public IReadOnlyList<LogLine> ReadNewOutput()
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return [];
            }

            List<LogLine>? lines = null;
            foreach (var text in _backlog)
            {
                (lines ??= []).Add(Append(text, fromManager: false));
            }

            _backlog.Clear();
            _output.ReadToEnd(text => (lines ??= []).Add(Append(text, fromManager: false)));

            if (_logBytes > _maxBytes || _output.Position > _maxBytes)
            {
                (lines ??= []).Add(Rotate());
            }

            return lines ?? (IReadOnlyList<LogLine>)[];
        }
    }

    /// <summary>Returns an unterminated last line as a line of its own (call when the engine has exited).</summary>
    public LogLine? FlushPartialLine()
    {
        lock (_lock)
        {
            return !_disposed && _output.FlushPartialLine() is { } text ? Append(text, fromManager: false) : null;
        }
    }

    /// <summary>Writes one of the manager's own lines (started, ready, stopping, …).</summary>
    public LogLine Write(string text)
    {
        lock (_lock)
        {
            return Append(text, fromManager: true);
        }
    }

    /// <summary>The newest <paramref name="count"/> lines, oldest first; only the engine's when <paramref name="engineOnly"/>.</summary>
    public IReadOnlyList<LogLine> Tail(int count, bool engineOnly = false)
    {
        lock (_lock)
        {
            return _ring.Tail(count, engineOnly);
        }
    }

    /// <summary>Lines with a sequence above <paramref name="afterSequence"/>, at most <paramref name="max"/> (the newest ones).</summary>
    public LogSlice After(long afterSequence, int max)
    {
        lock (_lock)
        {
            return _ring.After(afterSequence, max);
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            _output.Dispose();
            _log.Dispose();
        }
    }

    /// <summary>Formats a line the way the log file stores it.</summary>
    public static string Format(LogLine line) =>
        line.At.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture) + (line.FromManager ? ManagerMark : EngineMark) + line.Text;

    private LogLine Append(string text, bool fromManager)
    {
        if (text.Length > MaxLineLength)
        {
            text = string.Concat(text.AsSpan(0, MaxLineLength), " … (line cut)");
        }

        var line = _ring.Add(_time.GetUtcNow(), text, fromManager);
        if (!_disposed)
        {
            var formatted = Format(line);
            _log.Write(formatted);
            _log.Write('\n');
            _logBytes += Encoding.UTF8.GetByteCount(formatted) + 1;
        }

        return line;
    }

    /// <summary>
    /// Called with all output read: the log so far becomes <see cref="RotatedPath"/>, a new log starts (with a line that
    /// says so), and the output file is emptied in place. In that order: a manager that dies in between re-reads output
    /// it already logged rather than losing output it did not.
    /// </summary>
    private LogLine Rotate()
    {
        var rotated = RotatedPath(LogPath);
        _log.Dispose();
        File.Move(LogPath, rotated, overwrite: true);
        _log = OpenLog(LogPath, out _logBytes);
        _output.Empty();
        return Append($"The log reached its size limit ({_maxBytes / 1024} KiB, setting {ServerOptions.SectionName}:MaxRunLogBytes); "
                      + $"the lines before this one are in {Path.GetFileName(rotated)}.", fromManager: true);
    }

    private static StreamWriter OpenLog(string logPath, out long length)
    {
        var stream = new FileStream(logPath, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
        length = stream.Length;
        return new StreamWriter(stream, new UTF8Encoding(false)) { AutoFlush = true };
    }

    private void LoadExisting()
    {
        // Which output lines are already in the log, and the last lines for the UI.
        long engineLines = 0;
        var recent = new Queue<LogLine>(_ring.Capacity);
        using (var reader = new StreamReader(new FileStream(LogPath, FileMode.OpenOrCreate, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete), Encoding.UTF8))
        {
            while (reader.ReadLine() is { } raw)
            {
                var parsed = Parse(raw);
                if (parsed is null)
                {
                    continue;
                }

                if (!parsed.Value.FromManager)
                {
                    engineLines++;
                }

                if (recent.Count == _ring.Capacity)
                {
                    recent.Dequeue();
                }

                recent.Enqueue(new LogLine(0, parsed.Value.At, parsed.Value.Text, parsed.Value.FromManager));
            }
        }

        foreach (var line in recent)
        {
            _ring.Add(line.At, line.Text, line.FromManager);
        }

        // Skip as many complete output lines as the log holds; what follows was written while no manager ran
        // and is handed out by the next ReadNewOutput (after the manager has said so in the log).
        var toSkip = engineLines;
        _output.ReadToEnd(text =>
        {
            if (toSkip > 0)
            {
                toSkip--;
            }
            else
            {
                _backlog.Add(text);
            }
        });
    }

    /// <summary>Output lines written while no manager was running (known after <see cref="Resume"/>, until the next read).</summary>
    public int PendingBacklog
    {
        get
        {
            lock (_lock)
            {
                return _backlog.Count;
            }
        }
    }

    private static (DateTimeOffset At, string Text, bool FromManager)? Parse(string raw)
    {
        // 2026-11-26T14:02:03.123Z | text
        const int stampLength = 24;
        if (raw.Length < stampLength + 3
            || !DateTimeOffset.TryParseExact(raw.AsSpan(0, stampLength), "yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture,
                DateTimeStyles.AssumeUniversal, out var at))
        {
            return null;
        }

        var mark = raw.AsSpan(stampLength, 3);
        return mark.SequenceEqual(EngineMark) ? (at, raw[(stampLength + 3)..], false)
            : mark.SequenceEqual(ManagerMark) ? (at, raw[(stampLength + 3)..], true)
            : null;
    }
}
