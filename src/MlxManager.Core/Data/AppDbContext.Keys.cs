using Microsoft.EntityFrameworkCore;
using MlxManager.Core.Accounts.Keys;

namespace MlxManager.Core.Data;

public partial class AppDbContext
{
    public DbSet<ApiKey> ApiKeys => Set<ApiKey>();
}
