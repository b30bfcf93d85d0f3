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
           .ProducesProblem(StatusCodes.Status404NotFound);

    private static async Task<Results<NoContent, ProblemHttpResult>> HandleAsync(
        Guid id, ClaimsPrincipal caller, AppDbContext db, CancellationToken ct)
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

        await db.Set<TaskItem>().Where(t => t.Id == id).ExecuteDeleteAsync(ct);
        return TypedResults.NoContent();
    }
}
