using System.Text.Json.Serialization;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace MlxManager.Core.Downloads;

/// <summary>Where a download stands. Stored as text.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<DownloadState>))]
public enum DownloadState
{
    /// <summary>Waiting for a free slot (<see cref="DownloadOptions.MaxConcurrent"/>) or for a worker to pick its job up.</summary>
    Queued,

    /// <summary>A job is transferring files.</summary>
    Downloading,

    /// <summary>Checking partial files already on disk, or linking the snapshot once every byte is in.</summary>
    Verifying,

    /// <summary>Stopped on request; partial files are kept and Resume continues from them.</summary>
    Paused,

    /// <summary>Gave up; <see cref="Download.Error"/> says why. Retry continues from the partial files.</summary>
    Failed,

    /// <summary>Stopped on request; partial files were removed.</summary>
    Cancelled,

    /// <summary>Every file is in the cache, the snapshot is linked and <c>refs/main</c> written.</summary>
    Completed,
}

/// <summary>A stop asked of a running download by someone else (a page, the API, another process).</summary>
[JsonConverter(typeof(JsonStringEnumConverter<DownloadStopRequest>))]
public enum DownloadStopRequest
{
    None,
    Pause,
    Cancel,
}

/// <summary>
/// One download of a model repository into the Hugging Face cache: the record the job writes progress to and
/// the page rebuilds its tiles from. At most one <em>open</em> record (not completed, not dismissed) exists per
/// repository; asking again joins it. The record keeps the one Hangfire job that runs it (<see cref="JobId"/>),
/// requeued on resume and retry rather than duplicated.
/// </summary>
public sealed class Download
{
    public int Id { get; set; }

    /// <summary><c>org/name</c>.</summary>
    public required string RepoId { get; set; }

    /// <summary>What was asked for (<c>main</c>).</summary>
    public string Revision { get; set; } = "main";

    /// <summary>The commit being downloaded, once resolved; a resumed download keeps it.</summary>
    public string? Commit { get; set; }

    public DownloadState State { get; set; }

    public DownloadStopRequest StopRequest { get; set; }

    /// <summary>A failed or cancelled download the user put away; it no longer shows as a tile.</summary>
    public bool Dismissed { get; set; }

    /// <summary>The Hangfire job that runs this download (one per record, requeued on resume and retry).</summary>
    public string? JobId { get; set; }

    /// <summary>Who holds the record while running: <c>machine:pid:processStart:run</c>.</summary>
    public string? LeaseOwner { get; set; }

    public DateTime? LeaseExpiresAtUtc { get; set; }

    public long TotalBytes { get; set; }

    /// <summary>Bytes on disk for this commit, including what was there before this run.</summary>
    public long CompletedBytes { get; set; }

    /// <summary>Smoothed transfer rate.</summary>
    public double BytesPerSecond { get; set; }

    public int? EtaSeconds { get; set; }

    public int FileCount { get; set; }

    public int FilesDone { get; set; }

    /// <summary>The files being transferred right now, for the tile (comma-separated, shortened).</summary>
    public string? CurrentFiles { get; set; }

    /// <summary>Why the download failed, in words a user can act on.</summary>
    public string? Error { get; set; }

    /// <summary>The resolved file list (<see cref="DownloadPlan"/> as JSON), so cancel can find this download's partial files.</summary>
    public string? PlanJson { get; set; }

    /// <summary>E-mail of the account that asked first.</summary>
    public string? RequestedBy { get; set; }

    /// <summary>Job runs started for this record (restarts, resumes and retries included).</summary>
    public int Runs { get; set; }

    public DateTime CreatedAtUtc { get; set; }

    /// <summary>When it joined the queue (last resume or retry); the queue is served in this order.</summary>
    public DateTime QueuedAtUtc { get; set; }

    public DateTime? StartedAtUtc { get; set; }

    public DateTime UpdatedAtUtc { get; set; }

    public DateTime? FinishedAtUtc { get; set; }

    /// <summary>States in which the record still wants or has a job run.</summary>
    public static readonly DownloadState[] ActiveStates = [DownloadState.Queued, DownloadState.Downloading, DownloadState.Verifying];

    public bool IsActive => State is DownloadState.Queued or DownloadState.Downloading or DownloadState.Verifying;

    /// <summary>Shown as a tile: not completed and not dismissed.</summary>
    public bool IsOpen => State != DownloadState.Completed && !Dismissed;
}

/// <summary>
/// The <c>Downloads</c> table. A partial unique index allows one open record per repository, so two clicks racing
/// in different requests end up on the same download.
/// </summary>
public sealed class DownloadConfiguration : IEntityTypeConfiguration<Download>
{
    public void Configure(EntityTypeBuilder<Download> builder)
    {
        builder.ToTable("Downloads");
        builder.HasKey(d => d.Id);
        builder.Property(d => d.RepoId).IsRequired().HasMaxLength(256);
        builder.Property(d => d.Revision).IsRequired().HasMaxLength(256);
        builder.Property(d => d.Commit).HasMaxLength(64);
        builder.Property(d => d.State).HasConversion<string>().HasMaxLength(16);
        builder.Property(d => d.StopRequest).HasConversion<string>().HasMaxLength(16);
        builder.Property(d => d.JobId).HasMaxLength(64);
        builder.Property(d => d.LeaseOwner).HasMaxLength(256);
        builder.Property(d => d.CurrentFiles).HasMaxLength(1024);
        builder.Property(d => d.Error).HasMaxLength(4000);
        builder.Property(d => d.RequestedBy).HasMaxLength(256);
        builder.HasIndex(d => d.RepoId)
            .IsUnique()
            .HasFilter("\"State\" <> 'Completed' AND \"Dismissed\" = 0")
            .HasDatabaseName("IX_Downloads_OpenRepo");
        builder.HasIndex(d => new { d.State, d.QueuedAtUtc });
    }
}
