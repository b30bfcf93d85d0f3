using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Marten;
using SliceApi.Infrastructure.Endpoints;
using SliceApi.Infrastructure.Security;

namespace SliceApi.Features.ApiKeys;

/// <summary><c>GET /api/v1/api-keys</c>: the caller's API keys, newest first, without secrets.</summary>
internal sealed class ListApiKeysEndpoint : IEndpoint
{
    public void Map(IEndpointRouteBuilder api) =>
        api.MapGet("/api-keys", HandleAsync)
           .WithName("ListApiKeys")
           .WithTags("ApiKeys")
           .WithSummary("List the caller's API keys");

    private static async Task<Ok<List<ApiKeyResponse>>> HandleAsync(ClaimsPrincipal caller, IQuerySession session, CancellationToken ct)
    {
        var ownerId = caller.GetUserId();
        var keys = await session.Query<ApiKey>().Where(k => k.OwnerId == ownerId)
            .OrderByDescending(k => k.CreatedAt).ThenByDescending(k => k.Id)
            .ToListAsync(ct);
        return TypedResults.Ok(keys.Select(ApiKeyResponse.From).ToList());
    }
}
