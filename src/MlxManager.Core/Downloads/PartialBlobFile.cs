using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace MlxManager.Core.Downloads;

/// <summary>The <c>blobs/&lt;etag&gt;.incomplete</c> file of a transfer: opened for resuming, emptied to start over, hashed up to where it resumes.</summary>
internal static class PartialBlobFile
{
    public static async Task HashPrefixAsync(SafeFileHandle handle, long length, ContentHash hash, int bufferBytes, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(bufferBytes);
        try
        {
            long offset = 0;
            while (offset < length)
            {
                var count = (int)Math.Min(buffer.Length, length - offset);
                var read = await RandomAccess.ReadAsync(handle, buffer.AsMemory(0, count), offset, cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    throw new IOException($"the partial file became shorter while it was checked ({offset} of {length} bytes)");
                }

                hash.Append(buffer.AsSpan(0, read));
                offset += read;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// Opens the partial file to resume it, or creates it with <paramref name="size"/> bytes of disk reserved for it
    /// (its length stays 0 until bytes are written). Reserving the space up front finds a full disk before the transfer
    /// rather than in the middle of it, keeps the blob in few extents, and saves the file system allocating blocks page by
    /// page as the bytes arrive.
    /// </summary>
    public static SafeFileHandle Open(string path, long size)
    {
        try
        {
            if (size > 0 && !File.Exists(path))
            {
                try
                {
                    return File.OpenHandle(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.Read | FileShare.Delete, FileOptions.Asynchronous, preallocationSize: size);
                }
                catch (IOException) when (File.Exists(path))
                {
                    // Created meanwhile (not by this process: a transfer holds the blob's lock): resume it below.
                }
            }

            return File.OpenHandle(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read | FileShare.Delete, FileOptions.Asynchronous);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            throw new DownloadFailedException($"Cannot write {path}: {exception.Message}", exception);
        }
    }

    /// <summary>
    /// Gives back the disk reserved past the end of a partial file that stopped short (a cancel, a failure, or a process
    /// that was killed): cutting a file to its own length frees the blocks beyond it and keeps its bytes for a resume.
    /// A file that is not there has nothing to give back.
    /// </summary>
    /// <exception cref="IOException">The file could not be opened or cut; it keeps its reservation until it is resumed or removed.</exception>
    public static void ReleaseReservation(string path)
    {
        if (!File.Exists(path))
        {
            return;
        }

        using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite, FileShare.Read | FileShare.Delete);
        RandomAccess.SetLength(handle, RandomAccess.GetLength(handle));
    }

    public static void Truncate(SafeFileHandle handle, string path)
    {
        try
        {
            RandomAccess.SetLength(handle, 0);
        }
        catch (IOException exception)
        {
            throw new DownloadFailedException($"Cannot truncate {path}: {exception.Message}", exception);
        }
    }
}

/// <summary>sha256 for LFS files, git blob sha1 (<c>"blob {size}\0"</c> + bytes) for the others; nothing to check when the ETag is neither.</summary>
internal sealed class ContentHash : IDisposable
{
    private readonly IncrementalHash? _hash;
    private readonly PlannedFile _file;

    private ContentHash(PlannedFile file)
    {
        _file = file;
        if (file.IsLfs && file.Etag.Length == 64)
        {
            _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            Name = "sha256";
        }
        else if (!file.IsLfs && file.Etag.Length == 40)
        {
            _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA1);
            Name = "git blob sha1";
        }

        Restart();
    }

    public string Name { get; } = "hash";

    public string? Expected => _hash is null ? null : _file.Etag;

    public static ContentHash For(PlannedFile file) => new(file);

    public void Restart()
    {
        if (_hash is null)
        {
            return;
        }

        _hash.GetHashAndReset();
        if (!_file.IsLfs)
        {
            _hash.AppendData(Encoding.ASCII.GetBytes($"blob {_file.Size}\0"));
        }
    }

    public void Append(ReadOnlySpan<byte> bytes) => _hash?.AppendData(bytes);

    public string Finish() => _hash is null ? string.Empty : Convert.ToHexStringLower(_hash.GetHashAndReset());

    public void Dispose() => _hash?.Dispose();
}
