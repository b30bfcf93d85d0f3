using FastEndpoints;
using Marten;
using Microsoft.AspNetCore.Http.HttpResults;
using OpenIddict.Abstractions;
using OpenIddict.Core;

namespace SliceApi.Features.OAuth;

/// <summary>
/// <c>DELETE /api/v1/oauth/apps/{id}</c>: deletes one of the caller's apps (an admin: anyone's) through OpenIddict's
/// application manager; its <c>client_id</c> stops working at once. Any other id, or an app deleted meanwhile, is 404;
/// an app that concurrent changes keep changing while this tries three times is 409.
/// </summary>
internal sealed class DeleteOAuthApp(IQuerySession session, OpenIddictApplicationManager<OAuthApplication> apps)
    : Endpoint<OAuthAppRoute, Results<NoContent, ProblemHttpResult>>
{
    public override void Configure()
    {
        Delete("oauth/apps/{id}");
        Group<OAuthGroup>();
        Description(b => b.ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict));
        Summary(s => s.Summary = "Delete an OAuth app");
    }

    public override async Task<Results<NoContent, ProblemHttpResult>> ExecuteAsync(OAuthAppRoute req, CancellationToken ct)
    {
        for (var attempt = 0; attempt < MaxAttempts; attempt++)
        {
            if (await session.LoadAsync<OAuthApplication>(req.Id, ct) is not { } app || !OAuthAppAccess.MaySee(User, app))
            {
                return OAuthAppAccess.NotFound(req.Id);
            }

            try
            {
                await apps.DeleteAsync(app, ct);
                return TypedResults.NoContent();
            }
            catch (OpenIddictExceptions.ConcurrencyException)
            {
                // Changed or deleted since it was read: read it again (a deleted app is then 404).
            }
        }

        return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "The app keeps changing.",
            detail: $"The app was changed by other requests {MaxAttempts} times while this one tried to delete it; try again.");
    }

    // Reads before giving up on an app that other requests keep changing (PUT); a delete that lost to a delete gets its 404 on the next read.
    private const int MaxAttempts = 3;
}
