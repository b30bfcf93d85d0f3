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

/// <summary>The full new state of a task's writable fields (PUT replaces: an absent optional field becomes null, an absent status <c>todo</c>).</summary>
/// <param name="Title">1 to 200 characters after trimming; stored trimmed.</param>
/// <param name="Description">At most 4,000 characters.</param>
/// <param name="DueAt">Deadline as an RFC 3339 date-time with offset; stored in UTC.</param>
/// <param name="Status"><c>todo</c> (default), <c>in_progress</c> or <c>done</c>.</param>
/// <param name="AssigneeId">The id of the user to assign it to (owner or admin only); null for none.</param>
public sealed record UpdateTaskRequest(
    string Title, string? Description = null, DateTimeOffset? DueAt = null, TaskItemStatus? Status = null, Guid? AssigneeId = null) : ITaskFields;

/// <summary>Shape rules of <see cref="UpdateTaskRequest"/>: the same as for creation.</summary>
internal sealed class UpdateTaskValidator : AbstractValidator<UpdateTaskRequest>
{
    public UpdateTaskValidator() => Include(new TaskFieldsValidator());
}

/// <summary>
/// <c>PUT /api/v1/tasks/{id}</c>: replaces the writable fields of a task (its owner or an admin; an assignee gets 403).
/// If-Match with a stale ETag is 412; without If-Match, a write that lost a race with another is 409.
/// </summary>
internal sealed class UpdateTaskEndpoint : IEndpoint
{
    public void Map(IEndpointRouteBuilder api) =>
        api.MapPut("/tasks/{id}", HandleAsync)
           .WithName("UpdateTask")
           .RequireScope(Scopes.TasksWrite)
           .WithTags("Tasks")
           .WithSummary("Replace a task's title, description, deadline and status")
           .RequireAuthorization(Policies.TaskWriter)
           .WithRequestExample(new UpdateTaskRequest("Pay rent", "Paid by bank transfer", new DateTimeOffset(2026, 12, 1, 17, 0, 0, TimeSpan.Zero), TaskItemStatus.Done))
           .WithRequestValidation<UpdateTaskRequest>()
           .ProducesProblem(StatusCodes.Status403Forbidden)
           .ProducesProblem(StatusCodes.Status409Conflict)
           .ProducesProblem(StatusCodes.Status412PreconditionFailed)
           .ProducesProblem(StatusCodes.Status404NotFound);

    private static async Task<Results<Ok<TaskResponse>, ValidationProblem, ProblemHttpResult>> HandleAsync(
        Guid id, UpdateTaskRequest request, ClaimsPrincipal caller, AppDbContext db, Marten.IDocumentStore documents, TimeProvider clock, HttpContext http, CancellationToken ct)
    {
        var task = await db.Set<TaskItem>().AsTracking().VisibleTo(caller).FirstOrDefaultAsync(t => t.Id == id, ct);
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

        if (await TaskItemAccess.CheckAssigneeAsync(documents, request.AssigneeId, ct) is { } unknownAssignee)
        {
            return unknownAssignee;
        }

        request.ApplyTo(task);
        task.UpdatedAt = clock.GetStoredUtcNow();
        // UPDATE ... WHERE xmin = <version read above>: a concurrent write makes it match nothing.
        if (await TaskETag.SaveAsync(db, task, http, ct) is { } lostRace)
        {
            return lostRace;
        }

        return TypedResults.Ok(TaskResponse.From(task));
    }
}
