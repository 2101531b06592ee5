using System.Text;

namespace MlxManager.Core.Servers;

/// <summary>
/// The engine's raw output file read as lines: decoded as UTF-8 (characters split across reads survive), ending at
/// <c>\n</c>, <c>\r\n</c> or a lone <c>\r</c> (progress bars redraw with <c>\r</c>), each cut at
/// <see cref="RunLog.MaxLineLength"/>. An unterminated last line waits for the rest (or <see cref="FlushPartialLine"/>).
/// Not thread-safe: <see cref="RunLog"/> holds its lock around every call.
/// </summary>
internal sealed class OutputLines(string path) : IDisposable
{
    private readonly FileStream _file = new(path, FileMode.OpenOrCreate, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.None);
    private readonly Decoder _decoder = new UTF8Encoding(false, false).GetDecoder();
    private readonly byte[] _buffer = new byte[64 * 1024];
    private readonly char[] _chars = new char[64 * 1024 + 8];
    private readonly StringBuilder _partial = new();
    private bool _pendingCarriageReturn;

    /// <summary>How far the file has been read (its length, after <see cref="ReadToEnd"/>).</summary>
    public long Position => _file.Position;

    /// <summary>Reads what was written since the last call and hands out every complete line.</summary>
    public void ReadToEnd(Action<string> line)
    {
        int read;
        while ((read = _file.Read(_buffer, 0, _buffer.Length)) > 0)
        {
            var count = _decoder.GetChars(_buffer, 0, read, _chars, 0, flush: false);
            Split(_chars.AsSpan(0, count), line);
        }
    }

    /// <summary>The unterminated last line, if any (when the engine has exited).</summary>
    public string? FlushPartialLine()
    {
        if (_partial.Length == 0 && !_pendingCarriageReturn)
        {
            return null;
        }

        var text = _partial.ToString();
        _partial.Clear();
        _pendingCarriageReturn = false;
        return text;
    }

    /// <summary>
    /// Empties the file in place and reads on from its start. The writer keeps its descriptor: opened with O_APPEND,
    /// its next write lands at the new end. Call right after <see cref="ReadToEnd"/>: what is written in between is lost.
    /// </summary>
    public void Empty()
    {
        using (var writable = File.OpenHandle(path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete))
        {
            RandomAccess.SetLength(writable, 0);
        }

        _file.Position = 0;
    }

    public void Dispose() => _file.Dispose();

    private void Split(ReadOnlySpan<char> chars, Action<string> emit)
    {
        foreach (var c in chars)
        {
            if (_pendingCarriageReturn)
            {
                _pendingCarriageReturn = false;
                emit(_partial.ToString());
                _partial.Clear();
                if (c == '\n')
                {
                    continue;
                }
            }

            if (c == '\n')
            {
                emit(_partial.ToString());
                _partial.Clear();
            }
            else if (c == '\r')
            {
                _pendingCarriageReturn = true;
            }
            else if (_partial.Length <= RunLog.MaxLineLength)
            {
                _partial.Append(c);
            }
        }
    }
}
