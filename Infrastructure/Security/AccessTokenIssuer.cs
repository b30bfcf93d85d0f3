using System.Security.Claims;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace SliceApi.Infrastructure.Security;

/// <summary>An issued access token and its lifetime in seconds.</summary>
/// <param name="AccessToken">The compact JWS (RFC 7515), signed with HS256.</param>
/// <param name="ExpiresIn">Seconds until the token expires (RFC 6749 section 5.1 <c>expires_in</c>).</param>
internal sealed record IssuedAccessToken(string AccessToken, int ExpiresIn);

/// <summary>Creates signed JWT access tokens carrying the claims <c>sub</c>, <c>email</c>, <c>role</c> and <c>jti</c>.</summary>
internal sealed class AccessTokenIssuer(IOptions<JwtOptions> options, TimeProvider clock)
{
    private static readonly JsonWebTokenHandler Handler = new();

    /// <summary>Issues a token for the user, valid from now (UTC) for <see cref="JwtOptions.AccessTokenLifetimeMinutes"/>.</summary>
    public IssuedAccessToken Issue(Guid userId, string email, string role)
    {
        var settings = options.Value;
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

/// <summary>The claim names of an access token (RFC 7519 section 4.1, RFC 9068 section 2.2).</summary>
internal static class AccessTokenClaims
{
    /// <summary>The user id, a GUID.</summary>
    public const string Subject = "sub";

    /// <summary>The user's email address, lower-case.</summary>
    public const string Email = "email";

    /// <summary>One of <see cref="AppRoles"/>.</summary>
    public const string Role = "role";
}

/// <summary>Reads the caller's identity; slices call these instead of naming claims.</summary>
internal static class ClaimsPrincipalExtensions
{
    /// <summary>The caller's user id from the <c>sub</c> claim.</summary>
    /// <exception cref="InvalidOperationException">The principal is not an authenticated user (an endpoint that allows anonymous callers asked).</exception>
    public static Guid GetUserId(this ClaimsPrincipal user) =>
        Guid.TryParse(user.FindFirstValue(AccessTokenClaims.Subject), out var id)
            ? id
            : throw new InvalidOperationException("The caller has no valid 'sub' claim.");

    /// <summary>Whether the caller holds the <c>admin</c> role.</summary>
    public static bool IsAdmin(this ClaimsPrincipal user) => user.IsInRole(AppRoles.Admin);
}
