using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using SliceApi.Infrastructure.Data;
using SliceApi.Infrastructure.Endpoints;
using SliceApi.Infrastructure.Security;

namespace SliceApi.Features.Tasks;

/// <summary><c>GET /api/v1/tasks/{id}</c>: one task the caller may see.</summary>
internal sealed class GetTaskEndpoint : IEndpoint
{
    // Compiled once: the hottest read skips LINQ translation and its cache lookup on every request (bench/run.sh get_by_id).
    // The visibility rule of TaskItemAccess.VisibleTo, as flags so one compiled query serves every role.
    private static readonly Func<AppDbContext, Guid, bool, bool, Guid, CancellationToken, Task<TaskItem?>> FindVisible =
        EF.CompileAsyncQuery((AppDbContext db, Guid id, bool isAdmin, bool isGuest, Guid callerId, CancellationToken ct) =>
            db.Set<TaskItem>().FirstOrDefault(t => t.Id == id
                && (isAdmin || t.AssigneeId == callerId || (!isGuest && t.OwnerId == callerId))));

    public void Map(IEndpointRouteBuilder api) =>
        api.MapGet("/tasks/{id}", HandleAsync)
           .WithName("GetTask")
           .RequireScope(Scopes.TasksRead)
           .WithTags("Tasks")
           .WithSummary("Get a task")
           .ProducesProblem(StatusCodes.Status400BadRequest)
           .ProducesProblem(StatusCodes.Status404NotFound);

    private static async Task<Results<Ok<TaskResponse>, ProblemHttpResult>> HandleAsync(
        Guid id, ClaimsPrincipal caller, AppDbContext db, CancellationToken ct)
    {
        var task = await FindVisible(db, id, caller.IsAdmin(), caller.IsInRole(Roles.Guest), caller.GetUserId(), ct);
        return task is null ? TaskItemAccess.NotFound(id) : TypedResults.Ok(TaskResponse.From(task));
    }
}
