using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Marten;
using SliceApi.Infrastructure.Data;
using FastEndpoints;
using SliceApi.Infrastructure.Security;

namespace SliceApi.Features.ApiKeys;

/// <summary>Route of <c>DELETE /api/v1/api-keys/{id}</c>.</summary>
public sealed class DeleteApiKeyRequest
{
    /// <summary>The key's id.</summary>
    public Guid Id { get; set; }
}

/// <summary>
/// <c>DELETE /api/v1/api-keys/{id}</c>: revokes one of the caller's keys (an admin: anyone's). It stops working at
/// once on this instance and within a second on others (a revocation message). Someone else's key is 404.
/// </summary>
internal sealed class DeleteApiKey(IDocumentSession session, ApiKeyCache cache, Revocations revocations, TimeProvider clock) : Endpoint<DeleteApiKeyRequest, Results<NoContent, ProblemHttpResult>>
{
    public override void Configure()
    {
        Delete("api-keys/{id}");
        Group<ApiKeysGroup>();
        Description(b => b.ProducesProblem(StatusCodes.Status404NotFound));
        Summary(s => s.Summary = "Revoke an API key");
    }

    public override async Task<Results<NoContent, ProblemHttpResult>> ExecuteAsync(DeleteApiKeyRequest req, CancellationToken ct)
    {
        var key = await session.LoadForUpdateAsync<ApiKey>(req.Id, ct);
        if (key is null || !(User.IsAdmin() || key.OwnerId == User.GetUserId()))
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "API key not found.", detail: $"No API key {req.Id} is visible to you.");
        }

        key.RevokedAt ??= clock.GetStoredUtcNow();
        session.Update(key);
        revocations.Queue(session, Revocations.ApiKey, key.KeyHash);
        await session.SaveChangesAsync(ct);
        cache.Forget(Convert.FromHexString(key.KeyHash));
        return TypedResults.NoContent();
    }
}
