using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Marten;
using SliceApi.Infrastructure.Data;
using SliceApi.Infrastructure.Endpoints;
using SliceApi.Infrastructure.Security;

namespace SliceApi.Features.Users;

/// <summary><c>GET /api/v1/users/me</c>: the caller's own account.</summary>
internal sealed class GetCurrentUserEndpoint : IEndpoint
{
    public void Map(IEndpointRouteBuilder api) =>
        api.MapGet("/users/me", HandleAsync)
           .WithName("GetCurrentUser")
           .WithTags("Users")
           .WithSummary("Get the caller's account")
           .ProducesProblem(StatusCodes.Status404NotFound);

    private static async Task<Results<Ok<UserResponse>, ProblemHttpResult>> HandleAsync(
        ClaimsPrincipal caller, IQuerySession session, CancellationToken ct)
    {
        var id = caller.GetUserId();
        var user = await session.LoadAsync<User>(id, ct) is { } found ? UserResponse.From(found) : null;
        return user is null
            ? TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "The account no longer exists.",
                detail: "The access token belongs to an account that has been deleted.")
            : TypedResults.Ok(user);
    }
}
