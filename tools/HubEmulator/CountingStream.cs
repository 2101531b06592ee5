namespace MlxManager.HubEmulator;

/// <summary>Passes writes through to the response body and counts them, so the request log knows how many body
/// bytes each response really sent.</summary>
internal sealed class CountingStream(Stream inner, Func<long?> contentLength, Action<long> completing) : Stream
{
    long written;
    bool completed;

    public long Written => Interlocked.Read(ref written);

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override void Write(byte[] buffer, int offset, int count)
    {
        BeforeWrite(count);
        inner.Write(buffer, offset, count);
        Interlocked.Add(ref written, count);
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        BeforeWrite(buffer.Length);
        await inner.WriteAsync(buffer, cancellationToken);
        Interlocked.Add(ref written, buffer.Length);
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <summary>Calls <c>completing</c> once, just before the write that reaches the response's Content-Length: after
    /// that write the client may hold the whole response, so whatever it should be able to observe must exist already.</summary>
    void BeforeWrite(int count)
    {
        if (completed || contentLength() is not long total || Written + count < total) return;
        completed = true;
        completing(total);
    }

    public override void Flush() => inner.Flush();
    public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}
