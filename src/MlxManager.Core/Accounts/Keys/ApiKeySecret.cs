using System.Security.Cryptography;
using System.Text;
using SimpleBase;

namespace MlxManager.Core.Accounts.Keys;

/// <summary>A new key's secret and what is stored of it.</summary>
/// <param name="Secret">Shown once, never stored.</param>
/// <param name="Hash">SHA-256 of <paramref name="Secret"/>.</param>
public sealed record ApiKeySecret(string Secret, byte[] Hash)
{
    /// <summary>Every secret starts with this, so a leaked one is recognisable and the app can tell it from a JWT.</summary>
    public const string Marker = "mlxm_";

    /// <summary><see cref="Marker"/> followed by 32 bytes from <see cref="RandomNumberGenerator"/> in base62.</summary>
    public static ApiKeySecret New()
    {
        var secret = Marker + Base62.Default.Encode(RandomNumberGenerator.GetBytes(32));
        return new ApiKeySecret(secret, HashOf(secret));
    }

    /// <summary>True when <paramref name="value"/> looks like one of our secrets (not a JWT, not empty).</summary>
    public static bool LooksLikeSecret(string? value) =>
        value is { Length: > 20 and < 100 } && value.StartsWith(Marker, StringComparison.Ordinal);

    public static byte[] HashOf(string secret) => SHA256.HashData(Encoding.UTF8.GetBytes(secret));

    /// <summary>What is shown of the secret afterwards: the marker and four characters.</summary>
    public string Prefix => Secret[..(Marker.Length + 4)];

    public string LastFour => Secret[^4..];
}
