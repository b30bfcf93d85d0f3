using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Marten;
using FastEndpoints;
using SliceApi.Infrastructure.Security;

namespace SliceApi.Features.ApiKeys;

/// <summary><c>GET /api/v1/api-keys</c>: the caller's API keys, newest first, without secrets.</summary>
internal sealed class ListApiKeys(IQuerySession session) : EndpointWithoutRequest<Ok<List<ApiKeyResponse>>>
{
    public override void Configure()
    {
        Get("api-keys");
        Group<ApiKeysGroup>();
        Summary(s => s.Summary = "List the caller's API keys");
    }

    public override async Task<Ok<List<ApiKeyResponse>>> ExecuteAsync(CancellationToken ct)
    {
        var caller = User;
        var ownerId = caller.GetUserId();
        var keys = await session.Query<ApiKey>().Where(k => k.OwnerId == ownerId)
            .OrderByDescending(k => k.CreatedAt).ThenByDescending(k => k.Id)
            .ToListAsync(ct);
        return TypedResults.Ok(keys.Select(ApiKeyResponse.From).ToList());
    }
}
