using System.Security.Claims;
using FluentValidation;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using SliceApi.Infrastructure.Data;
using SliceApi.Infrastructure.Endpoints;
using SliceApi.Infrastructure.OpenApi;
using SliceApi.Infrastructure.Security;
using SliceApi.Infrastructure.Validation;

namespace SliceApi.Features.Tasks;

/// <summary>A task's new status.</summary>
/// <param name="Status"><c>todo</c>, <c>in_progress</c> or <c>done</c>.</param>
public sealed record ChangeTaskStatusRequest(TaskItemStatus? Status);

/// <summary>Shape rules of <see cref="ChangeTaskStatusRequest"/>.</summary>
internal sealed class ChangeTaskStatusValidator : AbstractValidator<ChangeTaskStatusRequest>
{
    public ChangeTaskStatusValidator() => RuleFor(x => x.Status).NotNull().IsInEnum();
}

/// <summary>
/// <c>PUT /api/v1/tasks/{id}/status</c>: sets a task's status; the owner, an admin, or the assignee (the one change
/// an assignee may make). Guests change nothing.
/// </summary>
internal sealed class ChangeTaskStatusEndpoint : IEndpoint
{
    public void Map(IEndpointRouteBuilder api) =>
        api.MapPut("/tasks/{id}/status", HandleAsync)
           .WithName("ChangeTaskStatus")
           .RequireScope(Scopes.TasksWrite)
           .WithTags("Tasks")
           .WithSummary("Change a task's status (owner, admin or assignee)")
           .RequireAuthorization(Policies.TaskWriter)
           .WithRequestExample(new ChangeTaskStatusRequest(TaskItemStatus.InProgress))
           .WithRequestValidation<ChangeTaskStatusRequest>()
           .ProducesProblem(StatusCodes.Status404NotFound)
           .ProducesProblem(StatusCodes.Status409Conflict)
           .ProducesProblem(StatusCodes.Status412PreconditionFailed);

    private static async Task<Results<Ok<TaskResponse>, ProblemHttpResult>> HandleAsync(
        Guid id, ChangeTaskStatusRequest request, ClaimsPrincipal caller, AppDbContext db, TimeProvider clock, HttpContext http, CancellationToken ct)
    {
        var task = await db.Set<TaskItem>().AsTracking().VisibleTo(caller).FirstOrDefaultAsync(t => t.Id == id, ct);
        if (task is null)
        {
            return TaskItemAccess.NotFound(id);
        }

        if (TaskETag.IfMatchFails(http.Request, task.Version))
        {
            return TaskETag.PreconditionFailed(task.Version);
        }

        task.Status = request.Status!.Value;
        task.UpdatedAt = clock.GetStoredUtcNow();
        // UPDATE ... WHERE xmin = <version read above>: a concurrent write makes it match nothing.
        if (await TaskETag.SaveAsync(db, task, http, ct) is { } lostRace)
        {
            return lostRace;
        }

        return TypedResults.Ok(TaskResponse.From(task));
    }
}
