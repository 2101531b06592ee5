using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace MlxManager.Core.Library;

/// <summary>One value set on the admin Settings page (table <c>Settings</c>). Keys are listed in <see cref="ModelSettingKeys"/>.</summary>
public class AppSetting
{
    public string Key { get; set; } = "";

    /// <summary>The value as text (JSON for lists; protected ciphertext for secrets).</summary>
    public string Value { get; set; } = "";

    public DateTime UpdatedAtUtc { get; set; }

    /// <summary>Who changed it last (user id).</summary>
    public string? UpdatedBy { get; set; }
}

/// <summary>The keys of the models feature's settings.</summary>
public static class ModelSettingKeys
{
    /// <summary>The Hub token, protected with ASP.NET Core Data Protection (never stored or shown in clear).</summary>
    public const string HubToken = "hub.token";

    /// <summary>JSON array of authors the Hub search is limited to; an empty array means any author.</summary>
    public const string SearchAuthors = "hub.search.authors";

    /// <summary>Results per Hub page (per author).</summary>
    public const string SearchPageSize = "hub.search.pageSize";

    /// <summary>JSON array of extra read-only model folders.</summary>
    public const string ExtraModelFolders = "library.extraFolders";
}

public sealed class AppSettingConfiguration : IEntityTypeConfiguration<AppSetting>
{
    public void Configure(EntityTypeBuilder<AppSetting> builder)
    {
        builder.ToTable("Settings");
        builder.HasKey(s => s.Key);
        builder.Property(s => s.Key).HasMaxLength(128);
        builder.Property(s => s.Value).IsRequired();
        builder.Property(s => s.UpdatedBy).HasMaxLength(450);
    }
}
