using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace MlxManager.Core.Discovery.Jobs;

public enum DetectionState
{
    Queued,
    Running,
    Done,
    Failed,
}

/// <summary>Where a detection reads the model's files.</summary>
public enum DetectionSourceKind
{
    /// <summary>Metadata files and safetensors headers fetched from the Hub at the commit.</summary>
    Hub,

    /// <summary>A snapshot folder on this machine.</summary>
    Local,
}

/// <summary>
/// One detection of one repository at one commit (table <c>ModelDetections</c>, unique on RepoId + Commit): the job's
/// state and, when done, the <see cref="ModelCharacteristics"/> as JSON with the detector version that made them.
/// </summary>
public class ModelDetection
{
    public int Id { get; set; }

    public string RepoId { get; set; } = "";

    /// <summary>The commit sha; for plain folders without one, a fingerprint of the folder (<c>folder-…</c>).</summary>
    public string Commit { get; set; } = "";

    public DetectionSourceKind Source { get; set; }

    /// <summary>The snapshot folder, for <see cref="DetectionSourceKind.Local"/>.</summary>
    public string? LocalPath { get; set; }

    /// <summary><see cref="DetectionHints"/> as JSON (Hub tags, safetensors parameters), for Hub detections.</summary>
    public string? HintsJson { get; set; }

    public DetectionState State { get; set; }

    /// <summary><see cref="ModelCharacteristicsDetector.Version"/> that produced (or will produce) the result.</summary>
    public int DetectorVersion { get; set; }

    public string? CharacteristicsJson { get; set; }

    /// <summary>Why the last run failed, in words a user can act on.</summary>
    public string? Failure { get; set; }

    public int Attempts { get; set; }

    public DateTime QueuedAtUtc { get; set; }

    public DateTime? StartedAtUtc { get; set; }

    public DateTime? FinishedAtUtc { get; set; }
}

public sealed class ModelDetectionConfiguration : IEntityTypeConfiguration<ModelDetection>
{
    public void Configure(EntityTypeBuilder<ModelDetection> builder)
    {
        builder.ToTable("ModelDetections");
        builder.HasKey(d => d.Id);
        builder.Property(d => d.RepoId).IsRequired().HasMaxLength(512);
        builder.Property(d => d.Commit).IsRequired().HasMaxLength(128);
        builder.HasIndex(d => new { d.RepoId, d.Commit }).IsUnique();
        builder.Property(d => d.Source).HasConversion<string>().HasMaxLength(16);
        builder.Property(d => d.State).HasConversion<string>().HasMaxLength(16);
        builder.Property(d => d.LocalPath).HasMaxLength(4096);
        builder.Property(d => d.Failure).HasMaxLength(2048);
    }
}
