using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using SliceApi.Infrastructure.Data;
using SliceApi.Infrastructure.Endpoints;
using SliceApi.Infrastructure.Security;

namespace SliceApi.Features.Tasks;

/// <summary><c>DELETE /api/v1/tasks/{id}</c>: deletes a task the caller may see (roles admin and user).</summary>
internal sealed class DeleteTaskEndpoint : IEndpoint
{
    public void Map(IEndpointRouteBuilder api) =>
        api.MapDelete("/tasks/{id}", HandleAsync)
           .WithName("DeleteTask")
           .WithTags("Tasks")
           .WithSummary("Delete a task")
           .RequireAuthorization(Policies.TaskWriter)
           .ProducesProblem(StatusCodes.Status400BadRequest)
           .ProducesProblem(StatusCodes.Status404NotFound);

    private static async Task<Results<NoContent, ProblemHttpResult>> HandleAsync(
        Guid id, ClaimsPrincipal caller, AppDbContext db, CancellationToken ct)
    {
        var deleted = await db.Set<TaskItem>().VisibleTo(caller).Where(t => t.Id == id).ExecuteDeleteAsync(ct);
        return deleted == 0 ? TaskItemAccess.NotFound(id) : TypedResults.NoContent();
    }
}
