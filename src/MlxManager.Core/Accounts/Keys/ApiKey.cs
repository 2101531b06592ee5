using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace MlxManager.Core.Accounts.Keys;

/// <summary>
/// A personal API key. Only the SHA-256 hash of the secret is stored; <see cref="Prefix"/> and <see cref="LastFour"/>
/// let its owner recognise it afterwards. Deleted with its owner (cascade).
/// </summary>
public sealed class ApiKey
{
    public int Id { get; set; }

    public required string UserId { get; set; }

    public required string Name { get; set; }

    /// <summary>Granted scopes, a set of <see cref="ApiKeyScopes"/> flags.</summary>
    public ApiKeyScopes Scopes { get; set; }

    /// <summary>Its requests' place in the gateway's lanes: batch requests wait while interactive ones are queued.</summary>
    public Gateway.RequestPriority Priority { get; set; }

    /// <summary>SHA-256 of the whole secret (32 bytes); unique, the lookup key.</summary>
    public required byte[] SecretHash { get; set; }

    /// <summary>The first characters of the secret (<c>mlxm_</c> and four more).</summary>
    public required string Prefix { get; set; }

    /// <summary>The secret's last four characters.</summary>
    public required string LastFour { get; set; }

    public DateTime CreatedAtUtc { get; set; }

    /// <summary>After this instant the key is refused; null for a key that never expires.</summary>
    public DateTime? ExpiresAtUtc { get; set; }

    /// <summary>Set when revoked; the key is refused from then on.</summary>
    public DateTime? RevokedAtUtc { get; set; }

    /// <summary>Last use as recorded by <see cref="ApiKeyUse"/> (at most a minute behind).</summary>
    public DateTime? LastUsedAtUtc { get; set; }

    /// <summary>Client address of the last use.</summary>
    public string? LastUsedFrom { get; set; }

    /// <summary>What stops the key at <paramref name="nowUtc"/>, or null when it may be used.</summary>
    public ApiKeyStatus StatusAt(DateTime nowUtc) =>
        RevokedAtUtc is not null ? ApiKeyStatus.Revoked
        : ExpiresAtUtc is { } expires && expires <= nowUtc ? ApiKeyStatus.Expired
        : ApiKeyStatus.Active;
}

/// <summary>What a key may be used for.</summary>
[Flags]
public enum ApiKeyScopes
{
    None = 0,

    /// <summary>The <c>/v1</c> inference gateway.</summary>
    Inference = 1,

    /// <summary>The <c>/metrics</c> endpoint.</summary>
    Metrics = 2,

    /// <summary>The <c>/api</c> management endpoints; only granted to, and only honoured for, admins.</summary>
    Manage = 4,
}

/// <summary>Whether a key may still be used.</summary>
public enum ApiKeyStatus
{
    Active,
    Expired,
    Revoked,
}

internal sealed class ApiKeyConfiguration : IEntityTypeConfiguration<ApiKey>
{
    public void Configure(EntityTypeBuilder<ApiKey> builder)
    {
        builder.HasOne<AppUser>().WithMany().HasForeignKey(key => key.UserId).OnDelete(DeleteBehavior.Cascade);
        builder.Property(key => key.Name).HasMaxLength(ApiKeyRules.MaxNameLength);
        builder.Property(key => key.SecretHash).HasMaxLength(32);
        builder.HasIndex(key => key.SecretHash).IsUnique();
        builder.Property(key => key.Prefix).HasMaxLength(16);
        builder.Property(key => key.LastFour).HasMaxLength(4);
        builder.Property(key => key.LastUsedFrom).HasMaxLength(64);
        builder.HasIndex(key => key.UserId);
    }
}
