using Microsoft.Extensions.Logging;

namespace MlxManager.Core.Data;

/// <summary>
/// Holds an exclusive lock on <c>mlx-manager.lock</c> in the data folder for the life of the process,
/// so a second MLX Manager pointed at the same folder stops with a clear message instead of sharing
/// the databases (and releasing the first one's running jobs, see the Hangfire start-up).
/// </summary>
public sealed partial class DataFolderLock : IDisposable
{
    /// <summary>File name of the lock inside the data folder.</summary>
    public const string FileName = "mlx-manager.lock";

    private readonly FileStream _stream;

    public DataFolderLock(DataDirectory dataDirectory, ILogger<DataFolderLock> logger)
    {
        dataDirectory.EnsureCreated();
        var path = dataDirectory.PathFor(FileName);
        // A process that just released the folder (a restart) can hold the lock a moment longer: a child
        // forked an instant before the release keeps the open file description until it execs.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(3);
        while (true)
        {
            try
            {
                _stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
                break;
            }
            catch (IOException exception) when (DateTime.UtcNow < deadline)
            {
                LogWaiting(logger, dataDirectory.Root, exception.Message);
                Thread.Sleep(100);
            }
            catch (IOException exception)
            {
                LogInUse(logger, dataDirectory.Root, exception.Message);
                throw new DataFolderInUseException(dataDirectory.Root, exception);
            }
        }
        LogAcquired(logger, dataDirectory.Root);
    }

    public void Dispose() => _stream.Dispose();

    [LoggerMessage(Level = LogLevel.Information, Message = "Data folder: {Root}")]
    private static partial void LogAcquired(ILogger logger, string root);

    [LoggerMessage(Level = LogLevel.Debug, Message = "The data folder {Root} is still locked, waiting: {Detail}")]
    private static partial void LogWaiting(ILogger logger, string root, string detail);

    // Debug: the exception's message is the one line a person sees (Program.cs prints it and exits with 1).
    [LoggerMessage(Level = LogLevel.Debug, Message = "The data folder {Root} is locked by another process: {Detail}")]
    private static partial void LogInUse(ILogger logger, string root, string detail);
}

/// <summary>Another MLX Manager holds the data folder; the message says which folder and what to do.</summary>
public sealed class DataFolderInUseException(string root, Exception inner)
    : InvalidOperationException($"The data folder {root} is in use by another MLX Manager. Stop it, or start this one with --data <another folder>.", inner);
