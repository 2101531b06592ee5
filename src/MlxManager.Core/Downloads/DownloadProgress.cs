using System.Collections.Concurrent;

namespace MlxManager.Core.Downloads;

/// <summary>What a running download is doing, as the tile names it.</summary>
public enum DownloadPhase
{
    /// <summary>Asking the Hub for the commit and the file list.</summary>
    Resolving,

    /// <summary>Hashing partial files left by an earlier run before resuming them.</summary>
    Checking,

    Transferring,

    /// <summary>Every byte is in: linking the snapshot, writing refs/main.</summary>
    Finishing,
}

/// <summary>
/// Live counters of one download, updated by the transfers (any thread) and read by whoever reports progress.
/// Cheap to update: a few interlocked additions per buffer.
/// </summary>
public sealed class DownloadProgress
{
    private readonly ConcurrentDictionary<string, ActiveFile> _active = new(StringComparer.Ordinal);
    private long _total;
    private long _completed;
    private long _received;
    private int _files;
    private int _filesDone;
    private volatile DownloadPhase _phase = DownloadPhase.Resolving;

    /// <summary>Bytes received from the network in this run (what the speed is measured on).</summary>
    public long ReceivedBytes => Interlocked.Read(ref _received);

    public long CompletedBytes => Interlocked.Read(ref _completed);

    public long TotalBytes => Interlocked.Read(ref _total);

    public DownloadPhase Phase
    {
        get => _phase;
        set => _phase = value;
    }

    /// <summary>Called once the plan is known.</summary>
    public void Begin(long totalBytes, int files)
    {
        Interlocked.Exchange(ref _total, totalBytes);
        Interlocked.Exchange(ref _files, files);
    }

    /// <summary>Bytes already on disk when the run started (finished blobs and partial files).</summary>
    public void AddExisting(long bytes) => Interlocked.Add(ref _completed, bytes);

    public void FileStarted(string path, long size, long have) => _active[path] = new ActiveFile(path, size, have);

    /// <summary>Marks a file as being checked (its partial bytes hashed before resuming) or not.</summary>
    public void SetChecking(string path, bool checking)
    {
        if (_active.TryGetValue(path, out var file))
        {
            file.Checking = checking;
        }
    }

    /// <summary>New bytes of <paramref name="path"/> arrived and were written.</summary>
    public void Received(string path, int bytes)
    {
        Interlocked.Add(ref _received, bytes);
        Interlocked.Add(ref _completed, bytes);
        if (_active.TryGetValue(path, out var file))
        {
            Interlocked.Add(ref file.Have, bytes);
        }
    }

    /// <summary>A file starts over (server ignored the range, or its bytes were corrupt): its bytes no longer count.</summary>
    public void Discarded(string path, long bytes)
    {
        Interlocked.Add(ref _completed, -bytes);
        if (_active.TryGetValue(path, out var file))
        {
            Interlocked.Add(ref file.Have, -bytes);
        }
    }

    public void FileDone(string path)
    {
        _active.TryRemove(path, out _);
        Interlocked.Increment(ref _filesDone);
    }

    /// <summary>A file left the active set without finishing (failure or stop).</summary>
    public void FileStopped(string path) => _active.TryRemove(path, out _);

    public DownloadProgressSnapshot Snapshot() => new(
        Phase,
        TotalBytes,
        CompletedBytes,
        ReceivedBytes,
        Volatile.Read(ref _files),
        Volatile.Read(ref _filesDone),
        _active.Values.OrderByDescending(f => f.Size).Select(f => new ActiveFileSnapshot(f.Path, f.Size, Interlocked.Read(ref f.Have), f.Checking)).ToList());

    private sealed class ActiveFile(string path, long size, long have)
    {
        public readonly string Path = path;
        public readonly long Size = size;
        public long Have = have;
        public volatile bool Checking;
    }
}

/// <param name="Checking">Hashing the bytes an earlier run left, before resuming.</param>
public sealed record ActiveFileSnapshot(string Path, long Size, long Have, bool Checking);

public sealed record DownloadProgressSnapshot(
    DownloadPhase Phase,
    long TotalBytes,
    long CompletedBytes,
    long ReceivedBytes,
    int Files,
    int FilesDone,
    IReadOnlyList<ActiveFileSnapshot> ActiveFiles);

/// <summary>
/// A transfer rate smoothed exponentially over about <see cref="TimeConstant"/>, so the shown speed and ETA don't
/// jump with every buffer. Feed it the running total of received bytes.
/// </summary>
public sealed class TransferRate
{
    private long? _lastBytes;
    private DateTimeOffset _lastTime;

    public TransferRate(TimeSpan? timeConstant = null) => TimeConstant = timeConstant ?? TimeSpan.FromSeconds(3);

    public TimeSpan TimeConstant { get; }

    /// <summary>Bytes per second; 0 until two samples were taken.</summary>
    public double BytesPerSecond { get; private set; }

    public void Sample(long totalBytes, DateTimeOffset now)
    {
        if (_lastBytes is not { } last)
        {
            _lastBytes = totalBytes;
            _lastTime = now;
            return;
        }

        var seconds = (now - _lastTime).TotalSeconds;
        if (seconds <= 0.01)
        {
            return;
        }

        var instant = Math.Max(0, totalBytes - last) / seconds;
        var weight = 1 - Math.Exp(-seconds / TimeConstant.TotalSeconds);
        BytesPerSecond = BytesPerSecond == 0 ? instant : BytesPerSecond + (weight * (instant - BytesPerSecond));
        _lastBytes = totalBytes;
        _lastTime = now;
    }

    /// <summary>Time left for <paramref name="remainingBytes"/> at the smoothed rate; null while the rate is unknown.</summary>
    public TimeSpan? Eta(long remainingBytes) =>
        remainingBytes <= 0 ? TimeSpan.Zero
        : BytesPerSecond < 1 ? null
        : TimeSpan.FromSeconds(Math.Min(remainingBytes / BytesPerSecond, TimeSpan.FromDays(30).TotalSeconds));
}
