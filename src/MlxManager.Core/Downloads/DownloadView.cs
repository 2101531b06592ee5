namespace MlxManager.Core.Downloads;

/// <summary>What a download tile (and the JSON API) shows of a <see cref="Download"/> record.</summary>
/// <param name="QueuePosition">1-based place in the queue while waiting for a free slot; null otherwise.</param>
/// <param name="Starting">Queued while a download worker is free: it is about to start.</param>
/// <param name="BytesPerSecond">Smoothed transfer rate while downloading.</param>
/// <param name="CurrentFiles">Files being transferred right now.</param>
public sealed record DownloadView(
    int Id,
    string RepoId,
    DownloadState State,
    DownloadStopRequest StopRequest,
    int? QueuePosition,
    bool Starting,
    string? Commit,
    long TotalBytes,
    long CompletedBytes,
    double BytesPerSecond,
    int? EtaSeconds,
    int FileCount,
    int FilesDone,
    string? CurrentFiles,
    string? Error,
    string? RequestedBy,
    DateTime CreatedAtUtc,
    DateTime UpdatedAtUtc,
    DateTime? FinishedAtUtc)
{
    /// <summary>0–100, or null before the size is known.</summary>
    public double? Percent => TotalBytes > 0 ? Math.Clamp(100.0 * CompletedBytes / TotalBytes, 0, 100) : null;

    public bool IsActive => State is DownloadState.Queued or DownloadState.Downloading or DownloadState.Verifying;

    public bool CanPause => IsActive && StopRequest == DownloadStopRequest.None;

    public bool CanResume => State == DownloadState.Paused;

    public bool CanCancel => (IsActive && StopRequest != DownloadStopRequest.Cancel) || State is DownloadState.Paused;

    public bool CanRetry => State is DownloadState.Failed or DownloadState.Cancelled;

    public bool CanDismiss => State is DownloadState.Failed or DownloadState.Cancelled;

    /// <summary>The part after the slash.</summary>
    public string Name => RepoId.Contains('/', StringComparison.Ordinal) ? RepoId[(RepoId.IndexOf('/', StringComparison.Ordinal) + 1)..] : RepoId;

    public string Author => RepoId.Contains('/', StringComparison.Ordinal) ? RepoId[..RepoId.IndexOf('/', StringComparison.Ordinal)] : string.Empty;

    /// <summary>A few words for the state, as the tile's status line.</summary>
    public string StatusText => (State, StopRequest) switch
    {
        (_, DownloadStopRequest.Cancel) when IsActive => "Cancelling…",
        (_, DownloadStopRequest.Pause) when IsActive => "Pausing…",
        (DownloadState.Queued, _) when Starting => "Starting…",
        (DownloadState.Queued, _) => QueuePosition is { } position ? $"Queued · #{position} in line" : "Queued",
        (DownloadState.Downloading, _) when TotalBytes == 0 => "Resolving files…",
        (DownloadState.Downloading, _) => "Downloading",
        (DownloadState.Verifying, _) => "Verifying",
        (DownloadState.Paused, _) => "Paused",
        (DownloadState.Failed, _) => "Failed",
        (DownloadState.Cancelled, _) => "Cancelled",
        _ => "Completed",
    };

    public static DownloadView From(Download record, int? queuePosition, bool starting = false) => new(
        record.Id,
        record.RepoId,
        record.State,
        record.StopRequest,
        queuePosition,
        starting,
        record.Commit,
        record.TotalBytes,
        record.CompletedBytes,
        record.BytesPerSecond,
        record.EtaSeconds,
        record.FileCount,
        record.FilesDone,
        record.CurrentFiles,
        record.Error,
        record.RequestedBy,
        DateTime.SpecifyKind(record.CreatedAtUtc, DateTimeKind.Utc),
        DateTime.SpecifyKind(record.UpdatedAtUtc, DateTimeKind.Utc),
        record.FinishedAtUtc is { } finished ? DateTime.SpecifyKind(finished, DateTimeKind.Utc) : null);
}

/// <summary>
/// Every open download (the tiles, active ones first in queue order) and a stamp that changes whenever a download
/// finished, so a page knows to refresh its model lists.
/// </summary>
public sealed record DownloadBoardState(long Version, IReadOnlyList<DownloadView> Downloads, string LibraryStamp)
{
    public static DownloadBoardState Empty { get; } = new(0, [], string.Empty);

    /// <summary>Repositories with an open download: their ordinary tiles give way to the download tile.</summary>
    public IReadOnlySet<string> OpenRepoIds { get; } = Downloads.Select(d => d.RepoId).ToHashSet(StringComparer.OrdinalIgnoreCase);

    public bool SameContentAs(DownloadBoardState other) =>
        LibraryStamp == other.LibraryStamp && Downloads.SequenceEqual(other.Downloads);
}
