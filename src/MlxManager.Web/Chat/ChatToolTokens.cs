using System.Security.Claims;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using MlxManager.Core.Accounts;
using MlxManager.Web.Accounts;

namespace MlxManager.Web.Chat;

/// <summary>
/// Short-lived bearer tokens with which the chat's MCP client calls the app's own <c>/mcp</c> endpoint as the user
/// whose turn it is. Same signing key, issuer, audience and claims as <see cref="ApiTokens"/> (so the JWT handler
/// and its account checks apply unchanged), but valid for minutes and never handed to a browser.
/// </summary>
public sealed class ChatToolTokens(ApiSigningKey signingKey, TimeProvider time)
{
    /// <summary>How long a token lives: one turn's tool calls.</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(10);

    /// <summary>A token for <paramref name="user"/>.</summary>
    public string Issue(AppUser user)
    {
        var now = time.GetUtcNow();
        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = ApiTokens.Issuer,
            Audience = ApiTokens.Audience,
            IssuedAt = now.UtcDateTime,
            NotBefore = now.UtcDateTime,
            Expires = (now + Lifetime).UtcDateTime,
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(signingKey.Bytes) { KeyId = "mlx-manager-api-1" }, SecurityAlgorithms.HmacSha256),
            Subject = new ClaimsIdentity(
            [
                new Claim(JwtRegisteredClaimNames.Sub, user.Id),
                new Claim(JwtRegisteredClaimNames.Email, user.Email ?? ""),
                new Claim(JwtRegisteredClaimNames.Jti, Guid.NewGuid().ToString("N")),
                new Claim(AccountClaims.SecurityStamp, user.SecurityStamp ?? ""),
                new Claim("purpose", "chat-tools"),
            ]),
        };
        return new JsonWebTokenHandler().CreateToken(descriptor);
    }
}
