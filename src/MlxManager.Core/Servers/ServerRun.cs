using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using MlxManager.Core.Profiles;

namespace MlxManager.Core.Servers;

/// <summary>
/// One start of a profile's server, persisted so that the manager can re-attach after a restart (process id,
/// process start time, port, log files) and can show why the last run failed.
/// </summary>
public class ServerRun
{
    public long Id { get; set; }

    public int ProfileId { get; set; }

    /// <summary>The profile's name when the run started (shown if the profile is renamed meanwhile).</summary>
    public string ProfileName { get; set; } = "";

    public string Engine { get; set; } = "";

    /// <summary>The model reference the engine was given (repo id or folder).</summary>
    public string ModelReference { get; set; } = "";

    public bool ModelIsMultimodal { get; set; }

    public string Host { get; set; } = "";

    public int Port { get; set; }

    /// <summary>Process id of the engine (the session leader of its process tree); null before it started.</summary>
    public int? Pid { get; set; }

    /// <summary><see cref="Metrics.ProcessIdentity.StartTime"/> of <see cref="Pid"/>, to tell it from a reused process id.</summary>
    public long? ProcessStartTime { get; set; }

    /// <summary>The command as run, for display (POSIX-quoted, environment additions first).</summary>
    public string CommandLine { get; set; } = "";

    /// <summary>The engine's raw stdout and stderr (it writes this file itself).</summary>
    public string OutputPath { get; set; } = "";

    /// <summary>The timestamped log the manager writes from the output, plus its own events.</summary>
    public string LogPath { get; set; } = "";

    public string WorkingDirectory { get; set; } = "";

    public ServerState State { get; set; }

    /// <summary>Why it failed (or other state detail), one or two sentences.</summary>
    public string? Reason { get; set; }

    public int? ExitCode { get; set; }

    /// <summary>The last lines of output when it failed, newline-separated.</summary>
    public string? FailureLog { get; set; }

    public DateTime StartedAtUtc { get; set; }

    public DateTime? ReadyAtUtc { get; set; }

    public DateTime? EndedAtUtc { get; set; }
}

/// <summary>The <see cref="ServerRun"/> table: runs belong to their profile and go with it.</summary>
public sealed class ServerRunConfiguration : IEntityTypeConfiguration<ServerRun>
{
    public void Configure(EntityTypeBuilder<ServerRun> builder)
    {
        builder.ToTable("ServerRuns");
        builder.HasKey(r => r.Id);
        builder.HasOne<Profile>().WithMany().HasForeignKey(r => r.ProfileId).OnDelete(DeleteBehavior.Cascade);
        builder.HasIndex(r => new { r.ProfileId, r.Id });
        builder.HasIndex(r => r.State);
        builder.Property(r => r.ProfileName).IsRequired().HasMaxLength(ProfileValidator.MaxNameLength);
        builder.Property(r => r.Engine).IsRequired().HasMaxLength(64);
        builder.Property(r => r.ModelReference).IsRequired().HasMaxLength(1024);
        builder.Property(r => r.Host).IsRequired().HasMaxLength(255);
        builder.Property(r => r.State).HasConversion<string>().HasMaxLength(16);
        builder.Property(r => r.OutputPath).IsRequired().HasMaxLength(1024);
        builder.Property(r => r.LogPath).IsRequired().HasMaxLength(1024);
        builder.Property(r => r.WorkingDirectory).IsRequired().HasMaxLength(1024);
        builder.Property(r => r.StartedAtUtc).HasConversion(v => v, v => DateTime.SpecifyKind(v, DateTimeKind.Utc));
        builder.Property(r => r.ReadyAtUtc).HasConversion(v => v, v => v.HasValue ? DateTime.SpecifyKind(v.Value, DateTimeKind.Utc) : null);
        builder.Property(r => r.EndedAtUtc).HasConversion(v => v, v => v.HasValue ? DateTime.SpecifyKind(v.Value, DateTimeKind.Utc) : null);
    }
}
