using Marten;
using SliceApi.Infrastructure.Security;

namespace SliceApi.Features.ApiKeys;

/// <summary>An API key as stored, a Marten document (table <c>mt_doc_apikey</c>): never the key itself, only its SHA-256.</summary>
internal sealed class ApiKey
{
    /// <summary>The key's id, a version-7 GUID (the route id of <c>DELETE /api/v1/api-keys/{id}</c>).</summary>
    public Guid Id { get; init; }

    /// <summary>The user the key acts as.</summary>
    public Guid OwnerId { get; init; }

    /// <summary>What the owner called it, 1 to 100 characters.</summary>
    public required string Name { get; init; }

    /// <summary>Granted scopes: <c>tasks:read</c>, <c>tasks:write</c>.</summary>
    public required string[] Scopes { get; init; }

    /// <summary>SHA-256 of the key's UTF-8 text, as 64 lower-case hex digits.</summary>
    public required string KeyHash { get; init; }

    /// <summary>The key's first 12 characters, shown in lists so owners can tell keys apart.</summary>
    public required string Prefix { get; init; }

    /// <summary>UTC.</summary>
    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>UTC, or null for no expiry.</summary>
    public DateTimeOffset? ExpiresAt { get; init; }

    /// <summary>UTC, once revoked.</summary>
    public DateTimeOffset? RevokedAt { get; set; }

    /// <summary>
    /// The most keys a user may hold at once that are neither revoked nor expired, and the most that
    /// <c>GET /api/v1/api-keys</c> lists (OWASP API4:2023, unrestricted resource consumption).
    /// </summary>
    public const int MaxActivePerUser = 100;

    /// <summary>The stored form of a key's SHA-256.</summary>
    public static string HashText(byte[] sha256) => Convert.ToHexStringLower(sha256);
}

/// <summary>
/// The storage of <see cref="ApiKey"/>: a unique index on the hash (the authentication lookup), the owner as a column
/// with a foreign key to the user document that deletes a user's keys with the user, and the creation time for the list order.
/// </summary>
internal sealed class ApiKeyMapping : IConfigureMarten
{
    public void Configure(IServiceProvider services, StoreOptions options) =>
        options.Schema.For<ApiKey>()
            .Duplicate(k => k.KeyHash, configure: ix => { ix.IsUnique = true; ix.Name = "ux_api_key_key_hash"; })
#pragma warning disable CS0618 // Weasel 9.49's ForeignKey.OnDelete still has the type it marks obsolete
            .ForeignKey<SliceApi.Features.Users.User>(k => k.OwnerId, fk => fk.OnDelete = Weasel.Postgresql.CascadeAction.Cascade)
#pragma warning restore CS0618
            .Duplicate(k => k.CreatedAt, configure: ix => ix.Name = "ix_api_key_created_at");
}

/// <summary>An API key as listed: never the secret.</summary>
/// <param name="Id">The key's id.</param>
/// <param name="Name">What the owner called it.</param>
/// <param name="Prefix">The key's first 12 characters.</param>
/// <param name="Scopes">Granted scopes.</param>
/// <param name="CreatedAt">UTC.</param>
/// <param name="ExpiresAt">UTC, or null.</param>
/// <param name="RevokedAt">UTC, or null while usable.</param>
public sealed record ApiKeyResponse(
    Guid Id, [property: System.ComponentModel.DataAnnotations.MaxLength(100)] string Name, [property: System.ComponentModel.DataAnnotations.MaxLength(12)] string Prefix,
    [property: System.ComponentModel.DataAnnotations.MaxLength(2), SliceApi.Infrastructure.OpenApi.DocumentedItems(ApiScopes.TasksRead, ApiScopes.TasksWrite)] IReadOnlyList<string> Scopes, DateTimeOffset CreatedAt, DateTimeOffset? ExpiresAt, DateTimeOffset? RevokedAt)
{
    internal static ApiKeyResponse From(ApiKey k) => new(k.Id, k.Name, k.Prefix, k.Scopes, k.CreatedAt, k.ExpiresAt, k.RevokedAt);
}
