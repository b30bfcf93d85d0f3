using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using Marten;
using Marten.Patching;
using Microsoft.Extensions.Options;
using SliceApi.Features.Users;
using SliceApi.Infrastructure.Data;
using SliceApi.Infrastructure.Security;

namespace SliceApi.Features.Auth;

/// <summary>
/// A refresh token as stored, a Marten document (table <c>mt_doc_refreshtoken</c>): never the token itself, only its
/// SHA-256. Its numeric revision makes rotation single-use: of two requests exchanging one token, one wins.
/// </summary>
internal sealed class RefreshToken
{
    /// <summary>The token's id, a version-7 GUID.</summary>
    public Guid Id { get; init; }

    /// <summary>The user it was issued to; a foreign key to <c>mt_doc_user</c> deletes it with the account.</summary>
    public Guid UserId { get; init; }

    /// <summary>Every token rotated from one login shares the family id of the first.</summary>
    public Guid FamilyId { get; init; }

    /// <summary>SHA-256 of the token's UTF-8 text, as 64 lower-case hex digits.</summary>
    public required string TokenHash { get; init; }

    /// <summary>UTC.</summary>
    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>UTC; after it the token is refused.</summary>
    public DateTimeOffset ExpiresAt { get; init; }

    /// <summary>When it was exchanged for a new pair (UTC). Presenting it again is reuse.</summary>
    public DateTimeOffset? UsedAt { get; set; }

    /// <summary>When its family was revoked (UTC): reuse, logout or a password change.</summary>
    public DateTimeOffset? RevokedAt { get; set; }

    /// <summary>Marten's numeric revision of the stored document (1 when inserted).</summary>
    public long Version { get; set; }

    /// <summary>The stored form of a presented token.</summary>
    public static string Hash(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));
}

/// <summary>
/// The storage of <see cref="RefreshToken"/>: numeric revisions, a unique index on the hash (the lookup), the family as
/// a column (revocation), and a foreign key to the user document that deletes a user's tokens with the user.
/// </summary>
internal sealed class RefreshTokenMapping : IConfigureMarten
{
    public void Configure(IServiceProvider services, StoreOptions options) =>
        options.Schema.For<RefreshToken>()
            .UseNumericRevisions(true)
            .Metadata(m => m.Revision.MapTo(t => t.Version))
            .Duplicate(t => t.TokenHash, configure: ix => { ix.IsUnique = true; ix.Name = "ux_refresh_token_token_hash"; })
            .Duplicate(t => t.FamilyId, configure: ix => ix.Name = "ix_refresh_token_family_id")
#pragma warning disable CS0618 // Weasel 9.49's ForeignKey.OnDelete still has the type it marks obsolete
            .ForeignKey<User>(t => t.UserId, fk => fk.OnDelete = Weasel.Postgresql.CascadeAction.Cascade);
#pragma warning restore CS0618
}

/// <summary>A token pair (RFC 6749 section 5.1 members, camelCase).</summary>
/// <param name="AccessToken">A JWT to send as <c>Authorization: Bearer &lt;accessToken&gt;</c>.</param>
/// <param name="TokenType">Always <c>Bearer</c>.</param>
/// <param name="ExpiresIn">Seconds until the access token expires.</param>
/// <param name="RefreshToken">Opaque (256 random bits, base64url); exchange it at POST /api/v1/auth/refresh for a new pair. Usable once.</param>
/// <param name="RefreshTokenExpiresIn">Seconds until the refresh token expires.</param>
public sealed record TokenResponse(
    [property: System.ComponentModel.DataAnnotations.MaxLength(2048)] string AccessToken,
    [property: System.ComponentModel.DataAnnotations.MaxLength(6)] string TokenType,
    [property: System.ComponentModel.DataAnnotations.Range(60, 24 * 60 * 60)] int ExpiresIn,
    [property: System.ComponentModel.DataAnnotations.MaxLength(43)] string RefreshToken,
    [property: System.ComponentModel.DataAnnotations.Range(24 * 60 * 60, 365 * 24 * 60 * 60)] int RefreshTokenExpiresIn);

/// <summary>Issues token pairs; login and refresh share it.</summary>
internal static class TokenPairs
{
    /// <summary>
    /// Creates an access token and a refresh token in <paramref name="familyId"/> (a new family when null), and saves
    /// the refresh token's hash together with whatever else <paramref name="session"/> holds (the rotated token).
    /// </summary>
    /// <exception cref="JasperFx.ConcurrencyException">A token rotated in the same save was rotated by someone else first.</exception>
    public static async Task<TokenResponse> IssueAsync(
        IDocumentSession session, IOptions<JwtOptions> options, TimeProvider clock,
        User user, Guid? familyId, CancellationToken ct)
    {
        var now = clock.GetStoredUtcNow();
        var lifetime = TimeSpan.FromDays(options.Value.RefreshTokenLifetimeDays);
        var token = Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));
        session.Insert(new RefreshToken
        {
            Id = Guid.CreateVersion7(),
            UserId = user.Id,
            FamilyId = familyId ?? Guid.CreateVersion7(),
            TokenHash = RefreshToken.Hash(token),
            CreatedAt = now,
            ExpiresAt = now + lifetime,
        });
        await session.SaveChangesAsync(ct);
        var access = AccessTokenIssuer.Issue(options.Value, clock, user.Id, user.Email, user.Role);
        return new TokenResponse(access.AccessToken, "Bearer", access.ExpiresIn, token, (int)lifetime.TotalSeconds);
    }

    /// <summary>Revokes every live token of a family (reuse or logout), in one statement.</summary>
    public static Task RevokeFamilyAsync(IDocumentSession session, Guid familyId, DateTimeOffset now, CancellationToken ct)
    {
        session.Patch<RefreshToken>(t => t.FamilyId == familyId && t.RevokedAt == null).Set(t => t.RevokedAt, now);
        return session.SaveChangesAsync(ct);
    }

    /// <summary>Token responses must not be cached (RFC 6749 section 5.1).</summary>
    public static void MarkNoStore(HttpResponse response)
    {
        response.Headers.CacheControl = "no-store";
        response.Headers.Pragma = "no-cache";
    }
}
