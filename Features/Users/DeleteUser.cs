using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Marten;
using SliceApi.Infrastructure.Data;
using SliceApi.Infrastructure.Endpoints;
using SliceApi.Infrastructure.Security;

namespace SliceApi.Features.Users;

/// <summary>
/// <c>DELETE /api/v1/users/{id}</c>: an admin deletes any account, anyone else only their own. The account's
/// tasks and refresh tokens are deleted with it (foreign keys with ON DELETE CASCADE, migration 0004); its
/// access tokens stop working within 30 seconds. Someone else's id is 404.
/// </summary>
internal sealed class DeleteUserEndpoint : IEndpoint
{
    public void Map(IEndpointRouteBuilder api) =>
        api.MapDelete("/users/{id}", HandleAsync)
           .WithName("DeleteUser")
           .WithTags("Users")
           .WithSummary("Delete an account and its tasks (admins: any; others: their own)")
           .ProducesProblem(StatusCodes.Status400BadRequest)
           .ProducesProblem(StatusCodes.Status404NotFound);

    private static async Task<Results<NoContent, ProblemHttpResult>> HandleAsync(
        Guid id, ClaimsPrincipal caller, IDocumentSession session, AccountStatusCheck statusCheck, CancellationToken ct)
    {
        if (!(caller.IsAdmin() || caller.GetUserId() == id) || await session.LoadAsync<User>(id, ct) is null)
        {
            return UserProblems.NotFound(id);
        }

        // The user's tasks, tokens, keys and idempotency records go with it through their foreign keys (ON DELETE
        // CASCADE); tasks assigned to it become unassigned (SET NULL).
        session.Delete<User>(id);
        await session.SaveChangesAsync(ct);

        statusCheck.Forget(id);
        return TypedResults.NoContent();
    }
}
