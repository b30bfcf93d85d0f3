using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using SliceApi.Infrastructure.Data;
using SliceApi.Infrastructure.Security;

namespace SliceApi.Features.ApiKeys;

/// <summary>An API key as stored (table <c>api_keys</c>): never the key itself, only its SHA-256.</summary>
internal sealed class ApiKey
{
    public Guid Id { get; init; }

    /// <summary>The user the key acts as.</summary>
    public Guid OwnerId { get; init; }

    public required string Name { get; init; }

    /// <summary>Granted scopes: <c>tasks:read</c>, <c>tasks:write</c>.</summary>
    public required string[] Scopes { get; init; }

    /// <summary>SHA-256 of the key's UTF-8 text.</summary>
    public required byte[] KeyHash { get; init; }

    /// <summary>The key's first 12 characters, shown in lists so owners can tell keys apart.</summary>
    public required string Prefix { get; init; }

    /// <summary>UTC.</summary>
    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>UTC, or null for no expiry.</summary>
    public DateTimeOffset? ExpiresAt { get; init; }

    /// <summary>UTC, once revoked.</summary>
    public DateTimeOffset? RevokedAt { get; set; }
}

/// <summary>Maps <see cref="ApiKey"/> onto the table created by migration 0006.</summary>
internal sealed class ApiKeyConfiguration : IEntityTypeConfiguration<ApiKey>
{
    public void Configure(EntityTypeBuilder<ApiKey> builder)
    {
        builder.ToTable("api_keys");
        builder.HasKey(k => k.Id);
        builder.Property(k => k.Id).HasColumnName("id").ValueGeneratedNever();
        builder.Property(k => k.OwnerId).HasColumnName("owner_id");
        builder.Property(k => k.Name).HasColumnName("name").HasMaxLength(100);
        builder.Property(k => k.Scopes).HasColumnName("scopes");
        builder.Property(k => k.KeyHash).HasColumnName("key_hash");
        builder.Property(k => k.Prefix).HasColumnName("prefix").HasMaxLength(12);
        builder.Property(k => k.CreatedAt).HasColumnName("created_at");
        builder.Property(k => k.ExpiresAt).HasColumnName("expires_at");
        builder.Property(k => k.RevokedAt).HasColumnName("revoked_at");
        builder.HasIndex(k => k.KeyHash).IsUnique().HasDatabaseName("ux_api_keys_key_hash");
        builder.HasIndex(k => k.OwnerId).HasDatabaseName("ix_api_keys_owner_id");
    }
}

/// <summary>An API key as listed: never the secret.</summary>
/// <param name="Id">The key's id.</param>
/// <param name="Name">What the owner called it.</param>
/// <param name="Prefix">The key's first 12 characters.</param>
/// <param name="Scopes">Granted scopes.</param>
/// <param name="CreatedAt">UTC.</param>
/// <param name="ExpiresAt">UTC, or null.</param>
/// <param name="RevokedAt">UTC, or null while usable.</param>
public sealed record ApiKeyResponse(Guid Id, string Name, string Prefix, IReadOnlyList<string> Scopes, DateTimeOffset CreatedAt, DateTimeOffset? ExpiresAt, DateTimeOffset? RevokedAt)
{
    internal static ApiKeyResponse From(ApiKey k) => new(k.Id, k.Name, k.Prefix, k.Scopes, k.CreatedAt, k.ExpiresAt, k.RevokedAt);
}

/// <summary>Serves API key lookups to the authentication handler in Infrastructure/Security.</summary>
internal sealed class ApiKeySource(AppDbContext db) : IApiKeySource
{
    public Task<ApiKeyGrant?> FindAsync(byte[] keyHash, CancellationToken ct) =>
        db.Set<ApiKey>().Where(k => k.KeyHash == keyHash)
          .Select(k => new ApiKeyGrant(k.Id, k.OwnerId, k.Scopes, k.ExpiresAt, k.RevokedAt != null))
          .FirstOrDefaultAsync(ct);
}
