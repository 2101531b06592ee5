using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using MlxManager.Core.Accounts;

namespace MlxManager.Core.Data;

internal sealed class AppUserConfiguration : IEntityTypeConfiguration<AppUser>
{
    public void Configure(EntityTypeBuilder<AppUser> builder)
    {
        builder.Property(user => user.Status).HasConversion<string>().HasMaxLength(16);
        builder.HasIndex(user => user.Status);
    }
}

internal sealed class RoleSeedConfiguration : IEntityTypeConfiguration<IdentityRole>
{
    public void Configure(EntityTypeBuilder<IdentityRole> builder)
    {
        // Seeded so the first registration only has to add a row to AspNetUserRoles.
        builder.HasData(new IdentityRole
        {
            Id = Roles.AdminRoleId,
            Name = Roles.Admin,
            NormalizedName = Roles.Admin.ToUpperInvariant(),
            ConcurrencyStamp = "b5b0e0b4-6a34-4a8e-9d38-2f1c8e6c7a10",
        });
    }
}
