using Microsoft.EntityFrameworkCore;
using MlxManager.Core.Servers;

namespace MlxManager.Core.Data;

public partial class AppDbContext
{
    public DbSet<ServerRun> ServerRuns => Set<ServerRun>();
}
