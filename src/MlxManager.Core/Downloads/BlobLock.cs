namespace MlxManager.Core.Downloads;

/// <summary>
/// The lock huggingface_hub takes while writing a blob: an exclusive advisory lock (<c>flock</c>) on
/// <c>.locks/models--org--name/&lt;etag&gt;.lock</c>. .NET takes that same lock for <see cref="FileShare.None"/> on Unix,
/// so the manager and huggingface-cli or mlx-lm never write one blob at once. The file stays, as Python leaves it.
/// </summary>
public sealed class BlobLock : IDisposable
{
    private readonly FileStream _stream;

    private BlobLock(FileStream stream) => _stream = stream;

    public string Path => _stream.Name;

    /// <summary>Takes the lock, waiting while another program holds it.</summary>
    /// <param name="waiting">Called once if the lock is busy, so the caller can say what it waits for.</param>
    public static async Task<BlobLock> AcquireAsync(string path, TimeProvider time, Action? waiting, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        var told = false;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (TryAcquire(path) is { } acquired)
            {
                return acquired;
            }

            if (!told)
            {
                told = true;
                waiting?.Invoke();
            }

            await Task.Delay(TimeSpan.FromMilliseconds(250), time, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The lock, or null when another holder has it.</summary>
    public static BlobLock? TryAcquire(string path)
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        try
        {
            return new BlobLock(new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.None));
        }
        catch (IOException exception) when (IsSharingViolation(exception))
        {
            return null;
        }
    }

    public void Dispose() => _stream.Dispose();

    // A lock held elsewhere surfaces as an IOException whose HResult is a sharing violation (EWOULDBLOCK on Unix).
    private static bool IsSharingViolation(IOException exception) =>
        exception is not (FileNotFoundException or DirectoryNotFoundException or PathTooLongException)
        && ((exception.HResult & 0xFFFF) is 32 or 33 or 11
            || exception.Message.Contains("being used by another process", StringComparison.OrdinalIgnoreCase));
}
