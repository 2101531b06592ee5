using Microsoft.EntityFrameworkCore;
using MlxManager.Core.Profiles;

namespace MlxManager.Core.Data;

public partial class AppDbContext
{
    public DbSet<Profile> Profiles => Set<Profile>();
}
