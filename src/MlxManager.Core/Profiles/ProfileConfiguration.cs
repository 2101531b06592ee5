using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace MlxManager.Core.Profiles;

/// <summary>
/// The <see cref="Profile"/> table, picked up by the DbContext through <c>ApplyConfigurationsFromAssembly</c>.
/// Name and port are unique in the database as well as in validation (the index is the last line of defence
/// against two saves racing; names are compared case-insensitively by <see cref="ProfileRules.CheckUniqueness"/>,
/// the index stays provider-neutral). Defaults live in the entity, not in the database. Times are stored
/// as sortable numbers because SQLite cannot order <see cref="DateTimeOffset"/> text.
/// </summary>
public sealed class ProfileConfiguration : IEntityTypeConfiguration<Profile>
{
    public void Configure(EntityTypeBuilder<Profile> builder)
    {
        builder.ToTable("Profiles");
        builder.HasKey(p => p.Id);
        builder.Property(p => p.Name).IsRequired().HasMaxLength(ProfileValidator.MaxNameLength);
        builder.HasIndex(p => p.Name).IsUnique();
        builder.HasIndex(p => p.Port).IsUnique();
        builder.Property(p => p.ModelRef).IsRequired().HasMaxLength(1024);
        builder.Property(p => p.Engine).IsRequired().HasMaxLength(64);
        builder.Property(p => p.Host).IsRequired().HasMaxLength(255);
        builder.Property(p => p.Thinking).HasConversion<string>().HasMaxLength(16);
        builder.Property(p => p.ToolCallParser).HasMaxLength(64);
        builder.Property(p => p.ReasoningParser).HasMaxLength(64);
        builder.Property(p => p.GatewayNames).HasMaxLength(1024);
        builder.Property(p => p.CreatedAt).HasConversion(new DateTimeOffsetToBinaryConverter());
        builder.Property(p => p.UpdatedAt).HasConversion(new DateTimeOffsetToBinaryConverter());
    }
}
