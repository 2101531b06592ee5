using Microsoft.Win32.SafeHandles;

namespace MlxManager.Core.Downloads;

/// <summary>
/// The write side of one transfer: each piece a read brings is hashed and written to the partial file at once, on the
/// thread whose read brought it, while the bytes are still in that core's cache. Handing pieces to another thread (a
/// second buffer hashed and written by a pool thread while the next one filled) made the hash and the copy into the page
/// cache fetch them from memory again, and woke a pool thread per chunk: more CPU per GB, and slower as soon as another
/// process wanted the CPU. The socket's receive buffer keeps taking bytes from the network meanwhile. Pieces are written
/// strictly in order, so the hash always covers exactly the bytes on disk and a resume starts right after them.
/// </summary>
internal sealed class HashingBlobWriter
{
    private readonly SafeFileHandle _handle;
    private readonly string _path;
    private readonly ContentHash _hash;
    private long _offset;

    /// <param name="offset">Bytes already in the file (verified, and already in <paramref name="hash"/>): the first piece goes after them.</param>
    public HashingBlobWriter(SafeFileHandle handle, string path, ContentHash hash, long offset)
    {
        _handle = handle;
        _path = path;
        _hash = hash;
        _offset = offset;
    }

    /// <summary>Hashes <paramref name="piece"/> and writes it after the bytes appended before.</summary>
    public void Append(ReadOnlySpan<byte> piece)
    {
        _hash.Append(piece);
        try
        {
            RandomAccess.Write(_handle, piece, _offset);
        }
        catch (IOException exception)
        {
            throw new DownloadFailedException($"Could not write {_path}: {exception.Message}", exception);
        }

        _offset += piece.Length;
    }
}
