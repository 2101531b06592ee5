using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using MlxManager.Core.Accounts;

namespace MlxManager.Core.Usage;

/// <summary>
/// An administrator's limits for one user (table <c>UserQuotas</c>, deleted with the account). A null field takes the
/// default of the Settings page; zero means no limit.
/// </summary>
public sealed class UserQuota
{
    public required string UserId { get; set; }

    /// <summary>Prompt plus completion tokens per UTC day, web chat and gateway together.</summary>
    public long? TokensPerDay { get; set; }

    /// <summary>Gateway requests and chat turns running at once.</summary>
    public int? ConcurrentRequests { get; set; }
}

/// <summary>Limits in force: null is no limit.</summary>
public sealed record QuotaLimits(long? TokensPerDay, int? ConcurrentRequests)
{
    public static QuotaLimits None { get; } = new(null, null);
}

internal sealed class UserQuotaConfiguration : IEntityTypeConfiguration<UserQuota>
{
    public void Configure(EntityTypeBuilder<UserQuota> builder)
    {
        builder.ToTable("UserQuotas");
        builder.HasKey(quota => quota.UserId);
        builder.HasOne<AppUser>().WithMany().HasForeignKey(quota => quota.UserId).OnDelete(DeleteBehavior.Cascade);
    }
}
