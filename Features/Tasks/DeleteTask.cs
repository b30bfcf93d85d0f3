using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using SliceApi.Infrastructure.Data;
using SliceApi.Infrastructure.Endpoints;
using SliceApi.Infrastructure.Security;

namespace SliceApi.Features.Tasks;

/// <summary><c>DELETE /api/v1/tasks/{id}</c>: deletes a task (its owner or an admin; an assignee gets 403).</summary>
internal sealed class DeleteTaskEndpoint : IEndpoint
{
    public void Map(IEndpointRouteBuilder api) =>
        api.MapDelete("/tasks/{id}", HandleAsync)
           .WithName("DeleteTask")
           .RequireScope(Scopes.TasksWrite)
           .WithTags("Tasks")
           .WithSummary("Delete a task")
           .RequireAuthorization(Policies.TaskWriter)
           .ProducesProblem(StatusCodes.Status400BadRequest)
           .ProducesProblem(StatusCodes.Status403Forbidden)
           .ProducesProblem(StatusCodes.Status409Conflict)
           .ProducesProblem(StatusCodes.Status412PreconditionFailed)
           .ProducesProblem(StatusCodes.Status404NotFound);

    private static async Task<Results<NoContent, ProblemHttpResult>> HandleAsync(
        Guid id, ClaimsPrincipal caller, AppDbContext db, HttpContext http, CancellationToken ct)
    {
        var task = await db.Set<TaskItem>().VisibleTo(caller).FirstOrDefaultAsync(t => t.Id == id, ct);
        if (task is null)
        {
            return TaskItemAccess.NotFound(id);
        }

        if (!caller.MayEdit(task))
        {
            return TaskItemAccess.OwnerOnly();
        }

        if (TaskETag.IfMatchFails(http.Request, task.Version))
        {
            return TaskETag.PreconditionFailed(task.Version);
        }

        // Deletes only the version checked above; a concurrent change in between makes this match nothing.
        var version = task.Version;
        var deleted = await db.Set<TaskItem>().Where(t => t.Id == id && t.Version == version).ExecuteDeleteAsync(ct);
        if (deleted == 0 && TaskETag.HasIfMatch(http.Request))
        {
            return TaskETag.PreconditionFailed(version);
        }

        return deleted == 0
            ? TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "The task was changed by another request.", detail: "Read it again and retry.")
            : TypedResults.NoContent();
    }
}
