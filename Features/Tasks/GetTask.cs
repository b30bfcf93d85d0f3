using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using SliceApi.Infrastructure.Data;
using SliceApi.Infrastructure.Endpoints;

namespace SliceApi.Features.Tasks;

/// <summary><c>GET /api/v1/tasks/{id}</c>: one task the caller may see.</summary>
internal sealed class GetTaskEndpoint : IEndpoint
{
    public void Map(IEndpointRouteBuilder api) =>
        api.MapGet("/tasks/{id}", HandleAsync)
           .WithName("GetTask")
           .WithTags("Tasks")
           .WithSummary("Get a task")
           .ProducesProblem(StatusCodes.Status400BadRequest)
           .ProducesProblem(StatusCodes.Status404NotFound);

    private static async Task<Results<Ok<TaskResponse>, ProblemHttpResult>> HandleAsync(
        Guid id, ClaimsPrincipal caller, AppDbContext db, CancellationToken ct)
    {
        var task = await db.Set<TaskItem>().VisibleTo(caller)
            .Where(t => t.Id == id)
            .Select(t => TaskResponse.From(t))
            .FirstOrDefaultAsync(ct);
        return task is null ? TaskItemAccess.NotFound(id) : TypedResults.Ok(task);
    }
}
