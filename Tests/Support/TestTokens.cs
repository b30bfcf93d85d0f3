using System.Security.Claims;
using System.Text;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace SliceApi.Tests.Support;

/// <summary>Mints access tokens outside the app, to prove which ones it refuses.</summary>
public static class TestTokens
{
    /// <summary>A token with the given key, issuer, audience and validity window (UTC).</summary>
    public static string Create(string signingKey, Guid userId, string role, DateTime notBefore, DateTime expires,
        string issuer = "sliceapi", string audience = "sliceapi")
    {
        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = issuer,
            Audience = audience,
            IssuedAt = notBefore,
            NotBefore = notBefore,
            Expires = expires,
            Subject = new ClaimsIdentity([new Claim("sub", userId.ToString()), new Claim("role", role), new Claim("email", "someone@example.com")]),
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(Encoding.UTF8.GetBytes(signingKey)), SecurityAlgorithms.HmacSha256),
        });
    }

    /// <summary>The decoded payload of a compact JWT.</summary>
    public static JsonWebToken Read(string token) => new(token);
}
