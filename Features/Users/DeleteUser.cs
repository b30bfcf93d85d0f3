using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
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
        Guid id, ClaimsPrincipal caller, AppDbContext db, AccountStatusCheck statusCheck, CancellationToken ct)
    {
        var deleted = caller.IsAdmin() || caller.GetUserId() == id
            ? await db.Set<User>().Where(u => u.Id == id).ExecuteDeleteAsync(ct)
            : 0;
        if (deleted == 0)
        {
            return UserProblems.NotFound(id);
        }

        statusCheck.Forget(id);
        return TypedResults.NoContent();
    }
}
