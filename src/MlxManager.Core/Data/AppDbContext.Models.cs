using Microsoft.EntityFrameworkCore;
using MlxManager.Core.Discovery.Jobs;
using MlxManager.Core.Library;

namespace MlxManager.Core.Data;

public partial class AppDbContext
{
    /// <summary>Values set on the admin Settings page.</summary>
    public DbSet<AppSetting> Settings => Set<AppSetting>();

    /// <summary>Detection results (and jobs in flight), one per repo@commit.</summary>
    public DbSet<ModelDetection> ModelDetections => Set<ModelDetection>();
}
