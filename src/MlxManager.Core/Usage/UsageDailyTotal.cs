using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace MlxManager.Core.Usage;

/// <summary>
/// Sums of the ledger per UTC day, user, key, source and model (table <c>UsageDailyTotals</c>), kept for ever. Updated by
/// <see cref="UsageLedgerWriter"/> in the same transaction as the rows it adds, so they stay right when the retention
/// job deletes old rows.
/// </summary>
public sealed class UsageDailyTotal
{
    public long Id { get; set; }

    /// <summary>The day, as midnight UTC.</summary>
    public DateTime Day { get; set; }

    public required string UserId { get; set; }

    /// <summary>Null for the web chat and for API tokens (<see cref="Source"/> tells which).</summary>
    public int? ApiKeyId { get; set; }

    public UsageSource Source { get; set; }

    public string Model { get; set; } = "";

    /// <summary>Every row, whatever its outcome.</summary>
    public int Requests { get; set; }

    public int Errors { get; set; }

    public int Cancelled { get; set; }

    public int RefusedByQuota { get; set; }

    public long PromptTokens { get; set; }

    public long CompletionTokens { get; set; }

    public long ReasoningTokens { get; set; }

    /// <summary>Rows whose tokens were counted by the manager, not reported by the engine.</summary>
    public int EstimatedRequests { get; set; }

    public long DurationMs { get; set; }

    public long QueueWaitMs { get; set; }

    /// <summary>Sum of the time to first token over the <see cref="TimeToFirstTokenCount"/> rows that have one.</summary>
    public long TimeToFirstTokenMs { get; set; }

    public int TimeToFirstTokenCount { get; set; }

    /// <summary>Requests that started their server on demand.</summary>
    public int ServerStarts { get; set; }

    /// <summary>Adds one ledger row to the sums.</summary>
    public void Add(UsageRecord row)
    {
        Requests++;
        Errors += row.Outcome == UsageOutcome.Error ? 1 : 0;
        Cancelled += row.Outcome == UsageOutcome.Cancelled ? 1 : 0;
        RefusedByQuota += row.Outcome == UsageOutcome.RefusedByQuota ? 1 : 0;
        PromptTokens += row.PromptTokens;
        CompletionTokens += row.CompletionTokens;
        ReasoningTokens += row.ReasoningTokens;
        EstimatedRequests += row.TokensEstimated ? 1 : 0;
        DurationMs += row.DurationMs;
        QueueWaitMs += row.QueueWaitMs;
        if (row.TimeToFirstTokenMs is { } ttft)
        {
            TimeToFirstTokenMs += ttft;
            TimeToFirstTokenCount++;
        }

        ServerStarts += row.StartedServer ? 1 : 0;
    }
}

internal sealed class UsageDailyTotalConfiguration : IEntityTypeConfiguration<UsageDailyTotal>
{
    public void Configure(EntityTypeBuilder<UsageDailyTotal> builder)
    {
        builder.ToTable("UsageDailyTotals");
        builder.Property(total => total.UserId).HasMaxLength(64);
        builder.Property(total => total.Model).HasMaxLength(500);
        builder.HasIndex(total => new { total.Day, total.UserId, total.ApiKeyId, total.Source, total.Model });
        builder.HasIndex(total => new { total.UserId, total.Day });
    }
}
