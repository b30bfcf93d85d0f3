using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Marten;
using FastEndpoints;
using SliceApi.Infrastructure.Data;
using SliceApi.Infrastructure.Security;

namespace SliceApi.Features.ApiKeys;

/// <summary>
/// <c>GET /api/v1/api-keys</c>: the caller's API keys without their secrets, at most <see cref="ApiKey.MaxActivePerUser"/>:
/// the keys that still work, newest first, then the newest revoked or expired ones.
/// </summary>
internal sealed class ListApiKeys(IQuerySession session, TimeProvider clock) : EndpointWithoutRequest<Ok<List<ApiKeyResponse>>>
{
    public override void Configure()
    {
        Get("api-keys");
        Group<ApiKeysGroup>();
        Description(b => b.WithMetadata(new SliceApi.Infrastructure.OpenApi.DocumentedMaxItems(ApiKey.MaxActivePerUser)));
        Summary(s => s.Summary = "List the caller's API keys: those that still work, then the newest revoked or expired ones");
    }

    public override async Task<Ok<List<ApiKeyResponse>>> ExecuteAsync(CancellationToken ct)
    {
        var caller = User;
        var ownerId = caller.GetUserId();
        var now = clock.GetStoredUtcNow();
        var working = await session.Query<ApiKey>()
            .Where(k => k.OwnerId == ownerId && k.RevokedAt == null && (k.ExpiresAt == null || k.ExpiresAt > now))
            .OrderByDescending(k => k.CreatedAt).ThenByDescending(k => k.Id)
            .Take(ApiKey.MaxActivePerUser)
            .ToListAsync(ct);
        var ended = working.Count == ApiKey.MaxActivePerUser ? [] : await session.Query<ApiKey>()
            .Where(k => k.OwnerId == ownerId && (k.RevokedAt != null || (k.ExpiresAt != null && k.ExpiresAt <= now)))
            .OrderByDescending(k => k.CreatedAt).ThenByDescending(k => k.Id)
            .Take(ApiKey.MaxActivePerUser - working.Count)
            .ToListAsync(ct);
        return TypedResults.Ok(working.Concat(ended).Select(ApiKeyResponse.From).ToList());
    }
}
