using FastEndpoints;
using Microsoft.AspNetCore.Http.HttpResults;
using OpenIddict.Abstractions;
using SliceApi.Infrastructure.Security;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace SliceApi.Features.OAuth;

/// <summary>Route of <c>DELETE /api/v1/users/me/authorizations/{id}</c>.</summary>
public sealed class GrantRoute
{
    /// <summary>The grant's id.</summary>
    public Guid Id { get; set; }
}

/// <summary>
/// <c>DELETE /api/v1/users/me/authorizations/{id}</c>: revokes one of the caller's grants and every token issued under it
/// (OpenIddict's managers). Every use of an app token reads its grant, so the app is refused at once on every instance.
/// Another user's grant, one already revoked, or one revoked meanwhile by a concurrent request is 404.
/// </summary>
internal sealed class RevokeGrant(IOpenIddictAuthorizationManager grants, IOpenIddictTokenManager tokens)
    : Endpoint<GrantRoute, Results<NoContent, ProblemHttpResult>>
{
    public override void Configure()
    {
        Delete("users/me/authorizations/{id}");
        Group<OAuthGroup>();
        Description(b => b.ProducesProblem(StatusCodes.Status404NotFound));
        Summary(s => s.Summary = "Revoke an app's access");
    }

    public override async Task<Results<NoContent, ProblemHttpResult>> ExecuteAsync(GrantRoute req, CancellationToken ct)
    {
        var subject = User.GetUserId().ToString();
        // OpenIddict's TryRevokeAsync answers true for a grant read as revoked already, so the status is checked on the very
        // instance it revokes; one read as valid but revoked meanwhile fails on its concurrency token.
        if (await grants.FindByIdAsync(req.Id.ToString(), ct) is not OAuthAuthorization { Status: Statuses.Valid } grant || grant.Subject != subject
            || !await grants.TryRevokeAsync(grant, ct))
        {
            // Not the caller's, no longer valid, or revoked by a concurrent request.
            return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Grant not found.", detail: $"You have no grant {req.Id} that still counts.");
        }

        await tokens.RevokeByAuthorizationIdAsync(req.Id.ToString(), ct);
        return TypedResults.NoContent();
    }
}
