using Microsoft.EntityFrameworkCore;
using MlxManager.Core.Downloads;

namespace MlxManager.Core.Data;

public partial class AppDbContext
{
    public DbSet<Download> Downloads => Set<Download>();
}
