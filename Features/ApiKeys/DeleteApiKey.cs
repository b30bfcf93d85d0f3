using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Marten;
using SliceApi.Infrastructure.Data;
using SliceApi.Infrastructure.Endpoints;
using SliceApi.Infrastructure.Security;

namespace SliceApi.Features.ApiKeys;

/// <summary>
/// <c>DELETE /api/v1/api-keys/{id}</c>: revokes one of the caller's keys (an admin: anyone's). It stops working at
/// once on this instance and within 30 seconds on others. Someone else's key is 404.
/// </summary>
internal sealed class DeleteApiKeyEndpoint : IEndpoint
{
    public void Map(IEndpointRouteBuilder api) =>
        api.MapDelete("/api-keys/{id}", HandleAsync)
           .WithName("DeleteApiKey")
           .WithTags("ApiKeys")
           .WithSummary("Revoke an API key")
           .ProducesProblem(StatusCodes.Status400BadRequest)
           .ProducesProblem(StatusCodes.Status404NotFound);

    private static async Task<Results<NoContent, ProblemHttpResult>> HandleAsync(
        Guid id, ClaimsPrincipal caller, IDocumentSession session, ApiKeyCache cache, TimeProvider clock, CancellationToken ct)
    {
        var callerId = caller.GetUserId();
        var isAdmin = caller.IsAdmin();
        var key = await session.Query<ApiKey>().FirstOrDefaultAsync(k => k.Id == id && (isAdmin || k.OwnerId == callerId), ct);
        if (key is null)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "API key not found.", detail: $"No API key {id} is visible to you.");
        }

        key.RevokedAt ??= clock.GetStoredUtcNow();
        session.Update(key);
        await session.SaveChangesAsync(ct);
        cache.Forget(Convert.FromHexString(key.KeyHash));
        return TypedResults.NoContent();
    }
}
