using System.Buffers;
using Microsoft.Win32.SafeHandles;

namespace MlxManager.Core.Downloads;

/// <summary>
/// The write side of one transfer: two pooled buffers take turns, one filling from the network while the other is
/// hashed and written to the partial file by a pool thread (one work item per chunk, so no more thread hand-offs than a
/// plain asynchronous write). The sha256 therefore never sits between two reads of the socket, which is what kept
/// downloads below link speed as soon as another process wanted the CPU. Chunks are committed strictly in order, one at a time,
/// so the hash always covers exactly the bytes on disk and a resume starts right after them.
/// </summary>
internal sealed class PipelinedBlobWriter : IAsyncDisposable
{
    private readonly SafeFileHandle _handle;
    private readonly string _path;
    private readonly ContentHash _hash;
    private readonly byte[][] _buffers;
    private readonly int _chunkBytes;
    private int _current;
    private long _offset;
    private Task<int> _pending = Task.FromResult(0);

    /// <param name="offset">Bytes already in the file (verified, and already in <paramref name="hash"/>): the first chunk goes after them.</param>
    public PipelinedBlobWriter(SafeFileHandle handle, string path, ContentHash hash, long offset, int chunkBytes)
    {
        _handle = handle;
        _path = path;
        _hash = hash;
        _offset = offset;
        _chunkBytes = chunkBytes;
        _buffers = [ArrayPool<byte>.Shared.Rent(chunkBytes), ArrayPool<byte>.Shared.Rent(chunkBytes)];
    }

    /// <summary>The buffer to fill next from the network; free while the other one is being committed.</summary>
    public Memory<byte> Buffer => _buffers[_current].AsMemory(0, _chunkBytes);

    /// <summary>
    /// Hands over the first <paramref name="filled"/> bytes of <see cref="Buffer"/> and switches buffers. Returns once the
    /// previous chunk is on disk and hashed, with its length (0 when there was none), so progress only counts committed bytes.
    /// </summary>
    public async Task<int> SubmitAsync(int filled)
    {
        var committed = await FlushAsync().ConfigureAwait(false);
        _pending = CommitAsync(_buffers[_current].AsMemory(0, filled), _offset);
        _offset += filled;
        _current ^= 1;
        return committed;
    }

    /// <summary>Waits for the chunk being committed; returns its length (0 when none was).</summary>
    public async Task<int> FlushAsync()
    {
        var pending = _pending;
        _pending = Task.FromResult(0);
        return await pending.ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            // Never hand a buffer back to the pool while the hash or the write still reads it.
            await _pending.ConfigureAwait(false);
        }
        catch (DownloadFailedException)
        {
            // Already reported by SubmitAsync/FlushAsync, or the transfer failed for another reason first.
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(_buffers[0]);
            ArrayPool<byte>.Shared.Return(_buffers[1]);
        }
    }

    // One pool work item per chunk: hash, then write (to the page cache, a plain copy), while the caller reads on.
    private Task<int> CommitAsync(ReadOnlyMemory<byte> chunk, long offset) => Task.Run(() =>
    {
        _hash.Append(chunk.Span);
        try
        {
            RandomAccess.Write(_handle, chunk.Span, offset);
        }
        catch (IOException exception)
        {
            throw new DownloadFailedException($"Could not write {_path}: {exception.Message}", exception);
        }

        return chunk.Length;
    });
}
