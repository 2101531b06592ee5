using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.WebUtilities;

namespace MlxManager.HubEmulator;

/// <summary>Why a CDN URL was refused.</summary>
internal enum CdnUrlVerdict { Valid, Expired, BadSignature }

/// <summary>Signs and checks the expiring CDN URLs that LFS redirects point to, in the spirit of CloudFront signed
/// URLs (<c>Expires</c>, <c>Signature</c>, <c>Key-Pair-Id</c>). The key is random per emulator run.</summary>
internal sealed class CdnSigner(TimeProvider clock, TimeSpan lifetime)
{
    public const string KeyPairId = "K1HUBEMULATOR";
    readonly byte[] key = RandomNumberGenerator.GetBytes(32);

    /// <summary>The path and query of a fresh signed URL for the blob <paramref name="sha256"/>; the CDN answers
    /// with <paramref name="disposition"/> as Content-Disposition, as S3's <c>response-content-disposition</c> does.</summary>
    public string SignedPathAndQuery(string sha256, string disposition)
    {
        long expires = clock.GetUtcNow().Add(lifetime).ToUnixTimeSeconds();
        var signature = Sign(sha256, expires.ToString(System.Globalization.CultureInfo.InvariantCulture), disposition);
        return $"/cdn/repos/{sha256}?response-content-disposition={Uri.EscapeDataString(disposition)}"
            + $"&Expires={expires}&Signature={signature}&Key-Pair-Id={KeyPairId}";
    }

    public CdnUrlVerdict Verify(string sha256, string? expires, string? disposition, string? signature)
    {
        if (expires is null || signature is null || !long.TryParse(expires, out var expiresAt)) return CdnUrlVerdict.BadSignature;
        var expected = Sign(sha256, expires, disposition ?? "");
        if (!CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(signature)))
            return CdnUrlVerdict.BadSignature;
        return clock.GetUtcNow().ToUnixTimeSeconds() > expiresAt ? CdnUrlVerdict.Expired : CdnUrlVerdict.Valid;
    }

    string Sign(string sha256, string expires, string disposition) =>
        WebEncoders.Base64UrlEncode(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes($"{sha256}\n{expires}\n{disposition}")));
}
