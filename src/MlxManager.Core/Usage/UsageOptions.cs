namespace MlxManager.Core.Usage;

/// <summary>Settings of the usage ledger, section <c>MlxManager:Usage</c>.</summary>
public sealed class UsageOptions
{
    public const string SectionName = "MlxManager:Usage";

    /// <summary>Days a ledger row is kept; older rows are deleted daily (the daily totals stay).</summary>
    public int RetentionDays { get; set; } = 90;
}
