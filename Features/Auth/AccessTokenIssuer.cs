using System.Security.Claims;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using SliceApi.Infrastructure.Security;

namespace SliceApi.Features.Auth;

/// <summary>An issued access token and its lifetime in seconds.</summary>
/// <param name="AccessToken">The compact JWS (RFC 7515), signed with HS256.</param>
/// <param name="ExpiresIn">Seconds until the token expires (RFC 6749 section 5.1 <c>expires_in</c>).</param>
internal sealed record IssuedAccessToken(string AccessToken, int ExpiresIn);

/// <summary>Creates signed JWT access tokens carrying the claims <c>sub</c>, <c>email</c>, <c>role</c> and <c>jti</c>.</summary>
internal static class AccessTokenIssuer
{
    private static readonly JsonWebTokenHandler Handler = new();

    /// <summary>
    /// Issues a token for the user, signed with <see cref="JwtOptions.SigningKey"/>, valid from <paramref name="clock"/>'s
    /// now (UTC) for <see cref="JwtOptions.AccessTokenLifetimeMinutes"/>.
    /// </summary>
    public static IssuedAccessToken Issue(JwtOptions settings, TimeProvider clock, Guid userId, string email, string role)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var lifetime = TimeSpan.FromMinutes(settings.AccessTokenLifetimeMinutes);
        var token = Handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = settings.Issuer,
            Audience = settings.Audience,
            IssuedAt = now,
            NotBefore = now,
            Expires = now + lifetime,
            Subject = new ClaimsIdentity(
            [
                new Claim(AccessTokenClaims.Subject, userId.ToString()),
                new Claim(AccessTokenClaims.Email, email),
                new Claim(AccessTokenClaims.Role, role),
                new Claim(JwtRegisteredClaimNames.Jti, Guid.NewGuid().ToString()),
            ]),
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(settings.SigningKeyBytes), SecurityAlgorithms.HmacSha256),
        });
        return new IssuedAccessToken(token, (int)lifetime.TotalSeconds);
    }
}
