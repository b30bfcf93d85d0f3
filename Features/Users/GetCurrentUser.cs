using FastEndpoints;
using Marten;
using Microsoft.AspNetCore.Http.HttpResults;
using SliceApi.Infrastructure.Endpoints;
using SliceApi.Infrastructure.Security;

namespace SliceApi.Features.Users;

/// <summary><c>GET /api/v1/users/me</c>: the caller's own account.</summary>
internal sealed class GetCurrentUser(IQuerySession session) : EndpointWithoutRequest<Results<Ok<UserResponse>, ProblemHttpResult>>
{
    public override void Configure()
    {
        Get("users/me");
        Group<UsersGroup>();
        Definition.CallableWithScope(ApiScopes.Profile); // apps granted "profile"; API keys never hold it
        Description(b => b.ProducesProblem(StatusCodes.Status404NotFound));
        Summary(s => s.Summary = "Get the caller's account");
    }

    public override async Task<Results<Ok<UserResponse>, ProblemHttpResult>> ExecuteAsync(CancellationToken ct)
    {
        var user = await session.LoadAsync<User>(User.GetUserId(), ct) is { } found ? UserResponse.From(found) : null;
        return user is null
            ? TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "The account no longer exists.",
                detail: "The access token belongs to an account that has been deleted.")
            : TypedResults.Ok(user);
    }
}
