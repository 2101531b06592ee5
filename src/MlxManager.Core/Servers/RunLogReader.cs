namespace MlxManager.Core.Servers;

/// <summary>
/// Reads a run's whole log as one stream: the files of <see cref="RunLog.FilesOf"/> one after the other (the rotated
/// part, then the log). All files are opened at once, so a rotation while the log is downloaded cannot skip a part.
/// </summary>
public sealed class RunLogReader : Stream
{
    private readonly FileStream[] _files;
    private int _current;

    public RunLogReader(IReadOnlyList<string> paths)
    {
        ArgumentNullException.ThrowIfNull(paths);
        _files = [.. paths.Select(p => new FileStream(p, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete))];
    }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        for (; _current < _files.Length; _current++)
        {
            var read = _files[_current].Read(buffer);
            if (read > 0)
            {
                return read;
            }
        }

        return 0;
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        for (; _current < _files.Length; _current++)
        {
            var read = await _files[_current].ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
            if (read > 0)
            {
                return read;
            }
        }

        return 0;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            foreach (var file in _files)
            {
                file.Dispose();
            }
        }

        base.Dispose(disposing);
    }
}
