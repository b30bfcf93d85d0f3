using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using SliceApi.Infrastructure.Data;
using SliceApi.Infrastructure.Endpoints;
using SliceApi.Infrastructure.Security;

namespace SliceApi.Features.Tasks;

/// <summary>
/// <c>GET /api/v1/tasks/{id}</c>: one task the caller may see, with a strong ETag; If-None-Match naming the current
/// version gives 304 with no body.
/// </summary>
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
           .Produces(StatusCodes.Status304NotModified)
           .ProducesProblem(StatusCodes.Status400BadRequest)
           .ProducesProblem(StatusCodes.Status404NotFound);

    private static async Task<Results<Ok<TaskResponse>, StatusCodeHttpResult, ProblemHttpResult>> HandleAsync(
        Guid id, ClaimsPrincipal caller, AppDbContext db, HttpContext http, CancellationToken ct)
    {
        var task = await FindVisible(db, id, caller.IsAdmin(), caller.IsInRole(Roles.Guest), caller.GetUserId(), ct);
        if (task is null)
        {
            return TaskItemAccess.NotFound(id);
        }

        TaskETag.Write(http.Response, task.Version);
        return TaskETag.NoneMatchHits(http.Request, task.Version)
            ? TypedResults.StatusCode(StatusCodes.Status304NotModified)
            : TypedResults.Ok(TaskResponse.From(task));
    }
}
