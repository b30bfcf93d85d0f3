using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Marten;
using SliceApi.Infrastructure.Data;
using SliceApi.Infrastructure.Endpoints;
using SliceApi.Infrastructure.Security;

namespace SliceApi.Features.Users;

/// <summary>
/// <c>GET /api/v1/users/{id}</c>: an admin reads any account, anyone else only their own; another
/// user's id is a 404, so ids do not reveal which accounts exist.
/// </summary>
internal sealed class GetUserEndpoint : IEndpoint
{
    public void Map(IEndpointRouteBuilder api) =>
        api.MapGet("/users/{id}", HandleAsync)
           .WithName("GetUser")
           .WithTags("Users")
           .WithSummary("Get an account by id (admins: any; others: their own)")
           .ProducesProblem(StatusCodes.Status400BadRequest)
           .ProducesProblem(StatusCodes.Status404NotFound);

    private static async Task<Results<Ok<UserResponse>, ProblemHttpResult>> HandleAsync(
        Guid id, ClaimsPrincipal caller, IQuerySession session, CancellationToken ct)
    {
        UserResponse? user = null;
        if (caller.IsAdmin() || caller.GetUserId() == id)
        {
            user = await session.LoadAsync<User>(id, ct) is { } found ? UserResponse.From(found) : null;
        }

        return user is null
            ? UserProblems.NotFound(id)
            : TypedResults.Ok(user);
    }
}
