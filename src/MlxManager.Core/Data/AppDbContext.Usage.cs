using Microsoft.EntityFrameworkCore;
using MlxManager.Core.Usage;

namespace MlxManager.Core.Data;

public partial class AppDbContext
{
    public DbSet<UsageRecord> UsageRecords => Set<UsageRecord>();

    public DbSet<UsageDailyTotal> UsageDailyTotals => Set<UsageDailyTotal>();

    public DbSet<UserQuota> UserQuotas => Set<UserQuota>();
}
