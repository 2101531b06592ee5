using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace MlxManager.Core.Usage;

/// <summary>
/// One request through the gateway or one web-chat turn, as the usage ledger keeps it (table <c>UsageRecords</c>,
/// kept <see cref="UsageOptions.RetentionDays"/>; <see cref="UsageDailyTotal"/> keeps the sums for ever).
/// No foreign keys: the ledger is history, so a row outlives the key, the profile or the account it names, and the
/// batched writer never loses a batch because one of them was deleted meanwhile.
/// </summary>
public sealed class UsageRecord
{
    public long Id { get; set; }

    /// <summary>When the request arrived (UTC); rows are ordered and filtered by it.</summary>
    public DateTime StartedAtUtc { get; set; }

    public required string UserId { get; set; }

    /// <summary>The personal key used; null for the web chat and for API tokens (<see cref="Source"/> tells which).</summary>
    public int? ApiKeyId { get; set; }

    public UsageSource Source { get; set; }

    /// <summary>The profile that served it; null when the request was refused before a profile was chosen.</summary>
    public int? ProfileId { get; set; }

    /// <summary>The profile's name when the request ran (profiles are renamed and deleted; the ledger keeps the name).</summary>
    public string ProfileName { get; set; } = "";

    /// <summary>The model the engine served (its repo id or folder), else the name the client asked for.</summary>
    public string Model { get; set; } = "";

    public int PromptTokens { get; set; }

    public int CompletionTokens { get; set; }

    /// <summary>Tokens of thinking, when the engine counts them apart (they are also part of <see cref="CompletionTokens"/>).</summary>
    public int ReasoningTokens { get; set; }

    /// <summary>True when the engine reported no <c>usage</c> and the tokens were counted by the manager.</summary>
    public bool TokensEstimated { get; set; }

    /// <summary>From arrival to the first token of the answer (ms); null when none came or the answer was not streamed.</summary>
    public int? TimeToFirstTokenMs { get; set; }

    /// <summary>From arrival to the end of the answer (ms).</summary>
    public int DurationMs { get; set; }

    /// <summary>Time spent waiting in the profile's lane for a slot (ms).</summary>
    public int QueueWaitMs { get; set; }

    /// <summary>True when this request started the profile's server on demand (it then also waited for the load).</summary>
    public bool StartedServer { get; set; }

    public UsageOutcome Outcome { get; set; }

    /// <summary>Why it failed or was refused; null when it went well.</summary>
    public string? Error { get; set; }

    /// <summary>The UTC day the row counts toward (quotas and daily totals).</summary>
    public DateTime Day => StartedAtUtc.Date;

    public int TotalTokens => PromptTokens + CompletionTokens;
}

/// <summary>Where a ledger row came from.</summary>
public enum UsageSource
{
    /// <summary>The OpenAI-compatible <c>/v1</c> gateway (a personal key or an API token).</summary>
    Gateway,

    /// <summary>A turn of the web chat (always interactive, no key).</summary>
    Chat,
}

/// <summary>How a request ended.</summary>
public enum UsageOutcome
{
    Ok,
    Error,

    /// <summary>The client went away or the user stopped the turn.</summary>
    Cancelled,

    /// <summary>Refused before it ran because the user's quota was used up (429).</summary>
    RefusedByQuota,
}

internal sealed class UsageRecordConfiguration : IEntityTypeConfiguration<UsageRecord>
{
    public void Configure(EntityTypeBuilder<UsageRecord> builder)
    {
        builder.ToTable("UsageRecords");
        builder.Property(row => row.UserId).HasMaxLength(64);
        builder.Property(row => row.ProfileName).HasMaxLength(200);
        builder.Property(row => row.Model).HasMaxLength(500);
        builder.Property(row => row.Error).HasMaxLength(UsageLedger.MaxErrorLength);
        builder.HasIndex(row => row.StartedAtUtc);
        builder.HasIndex(row => new { row.UserId, row.StartedAtUtc });
        builder.Ignore(row => row.Day);
        builder.Ignore(row => row.TotalTokens);
    }
}
