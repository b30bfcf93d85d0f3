using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Microsoft.Extensions.Options;
using SliceApi.Features.Users;
using SliceApi.Infrastructure.Data;
using SliceApi.Infrastructure.Security;

namespace SliceApi.Features.Auth;

/// <summary>A refresh token as stored (table <c>refresh_tokens</c>): never the token itself, only its SHA-256.</summary>
internal sealed class RefreshToken
{
    public Guid Id { get; init; }

    public Guid UserId { get; init; }

    /// <summary>Every token rotated from one login shares the family id of the first.</summary>
    public Guid FamilyId { get; init; }

    /// <summary>SHA-256 of the token's UTF-8 text (32 bytes).</summary>
    public required byte[] TokenHash { get; init; }

    /// <summary>UTC.</summary>
    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>UTC; after it the token is refused.</summary>
    public DateTimeOffset ExpiresAt { get; init; }

    /// <summary>When it was exchanged for a new pair (UTC). Presenting it again is reuse.</summary>
    public DateTimeOffset? UsedAt { get; set; }

    /// <summary>When its family was revoked (UTC): reuse, logout or a password change.</summary>
    public DateTimeOffset? RevokedAt { get; set; }

    /// <summary>The stored form of a presented token.</summary>
    public static byte[] Hash(string token) => SHA256.HashData(Encoding.UTF8.GetBytes(token));
}

/// <summary>Maps <see cref="RefreshToken"/> onto the table created by migration 0002.</summary>
internal sealed class RefreshTokenConfiguration : IEntityTypeConfiguration<RefreshToken>
{
    public void Configure(EntityTypeBuilder<RefreshToken> builder)
    {
        builder.ToTable("refresh_tokens");
        builder.HasKey(t => t.Id);
        builder.Property(t => t.Id).HasColumnName("id").ValueGeneratedNever();
        builder.Property(t => t.UserId).HasColumnName("user_id");
        builder.Property(t => t.FamilyId).HasColumnName("family_id");
        builder.Property(t => t.TokenHash).HasColumnName("token_hash");
        builder.Property(t => t.CreatedAt).HasColumnName("created_at");
        builder.Property(t => t.ExpiresAt).HasColumnName("expires_at");
        builder.Property(t => t.UsedAt).HasColumnName("used_at");
        builder.Property(t => t.RevokedAt).HasColumnName("revoked_at");
        builder.HasIndex(t => t.TokenHash).IsUnique().HasDatabaseName("ux_refresh_tokens_token_hash");
        builder.HasIndex(t => t.FamilyId).HasDatabaseName("ix_refresh_tokens_family_id");
        builder.HasIndex(t => t.UserId).HasDatabaseName("ix_refresh_tokens_user_id");
    }
}

/// <summary>A token pair (RFC 6749 section 5.1 members, camelCase).</summary>
/// <param name="AccessToken">A JWT to send as <c>Authorization: Bearer &lt;accessToken&gt;</c>.</param>
/// <param name="TokenType">Always <c>Bearer</c>.</param>
/// <param name="ExpiresIn">Seconds until the access token expires.</param>
/// <param name="RefreshToken">Opaque (256 random bits, base64url); exchange it at POST /api/v1/auth/refresh for a new pair. Usable once.</param>
/// <param name="RefreshTokenExpiresIn">Seconds until the refresh token expires.</param>
public sealed record TokenResponse(string AccessToken, string TokenType, int ExpiresIn, string RefreshToken, int RefreshTokenExpiresIn);

/// <summary>Issues token pairs; login and refresh share it.</summary>
internal static class TokenPairs
{
    /// <summary>Creates an access token and a refresh token in <paramref name="familyId"/> (a new family when null), and saves the refresh token's hash.</summary>
    public static async Task<TokenResponse> IssueAsync(
        AppDbContext db, AccessTokenIssuer accessTokens, IOptions<JwtOptions> options, TimeProvider clock,
        User user, Guid? familyId, CancellationToken ct)
    {
        var now = clock.GetStoredUtcNow();
        var lifetime = TimeSpan.FromDays(options.Value.RefreshTokenLifetimeDays);
        var token = Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));
        db.Add(new RefreshToken
        {
            Id = Guid.CreateVersion7(),
            UserId = user.Id,
            FamilyId = familyId ?? Guid.CreateVersion7(),
            TokenHash = RefreshToken.Hash(token),
            CreatedAt = now,
            ExpiresAt = now + lifetime,
        });
        await db.SaveChangesAsync(ct);
        var access = accessTokens.Issue(user.Id, user.Email, user.Role);
        return new TokenResponse(access.AccessToken, "Bearer", access.ExpiresIn, token, (int)lifetime.TotalSeconds);
    }

    /// <summary>Revokes every live token of a family (reuse or logout).</summary>
    public static Task<int> RevokeFamilyAsync(AppDbContext db, Guid familyId, DateTimeOffset now, CancellationToken ct) =>
        db.Set<RefreshToken>().Where(t => t.FamilyId == familyId && t.RevokedAt == null)
          .ExecuteUpdateAsync(s => s.SetProperty(t => t.RevokedAt, now), ct);

    /// <summary>Token responses must not be cached (RFC 6749 section 5.1).</summary>
    public static void MarkNoStore(HttpResponse response)
    {
        response.Headers.CacheControl = "no-store";
        response.Headers.Pragma = "no-cache";
    }
}
