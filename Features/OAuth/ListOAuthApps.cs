using FastEndpoints;
using Marten;
using Microsoft.AspNetCore.Http.HttpResults;
using SliceApi.Infrastructure.OpenApi;
using SliceApi.Infrastructure.Security;

namespace SliceApi.Features.OAuth;

/// <summary><c>GET /api/v1/oauth/apps</c>: the apps the caller registered, newest first (at most <see cref="OAuthApplication.MaxPerUser"/>).</summary>
internal sealed class ListOAuthApps(IQuerySession session) : EndpointWithoutRequest<Ok<List<OAuthAppResponse>>>
{
    public override void Configure()
    {
        Get("oauth/apps");
        Group<OAuthGroup>();
        Description(b => b.WithMetadata(new DocumentedMaxItems(OAuthApplication.MaxPerUser)));
        Summary(s => s.Summary = "List the caller's OAuth apps");
    }

    public override async Task<Ok<List<OAuthAppResponse>>> ExecuteAsync(CancellationToken ct)
    {
        var ownerId = User.GetUserId();
        var apps = await session.Query<OAuthApplication>()
            .Where(a => a.OwnerId == ownerId)
            .OrderByDescending(a => a.CreatedAt).ThenByDescending(a => a.Id)
            .Take(OAuthApplication.MaxPerUser)
            .ToListAsync(ct);
        return TypedResults.Ok(apps.Select(OAuthAppResponse.From).ToList());
    }
}

/// <summary>Route of <c>GET</c> and <c>DELETE /api/v1/oauth/apps/{id}</c>.</summary>
public sealed class OAuthAppRoute
{
    /// <summary>The app's id.</summary>
    public Guid Id { get; set; }
}

/// <summary><c>GET /api/v1/oauth/apps/{id}</c>: one of the caller's apps (an admin: anyone's); any other id is 404.</summary>
internal sealed class GetOAuthApp(IQuerySession session) : Endpoint<OAuthAppRoute, Results<Ok<OAuthAppResponse>, ProblemHttpResult>>
{
    public override void Configure()
    {
        Get("oauth/apps/{id}");
        Group<OAuthGroup>();
        Description(b => b.ProducesProblem(StatusCodes.Status404NotFound));
        Summary(s => s.Summary = "Get an OAuth app");
    }

    public override async Task<Results<Ok<OAuthAppResponse>, ProblemHttpResult>> ExecuteAsync(OAuthAppRoute req, CancellationToken ct) =>
        await session.LoadAsync<OAuthApplication>(req.Id, ct) is { } app && OAuthAppAccess.MaySee(User, app)
            ? TypedResults.Ok(OAuthAppResponse.From(app))
            : OAuthAppAccess.NotFound(req.Id);
}

/// <summary>Who sees an app, and the problem everyone else gets.</summary>
internal static class OAuthAppAccess
{
    /// <summary>The owner and admins see an app.</summary>
    public static bool MaySee(System.Security.Claims.ClaimsPrincipal caller, OAuthApplication app) => caller.IsAdmin() || app.OwnerId == caller.GetUserId();

    /// <summary>404 for an app that does not exist or that the caller may not see; the same either way.</summary>
    public static ProblemHttpResult NotFound(Guid id) =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "App not found.", detail: $"No OAuth app {id} is visible to you.");
}
