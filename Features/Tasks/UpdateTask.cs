using FastEndpoints;
using Microsoft.AspNetCore.Http.HttpResults;
using Marten;
using SliceApi.Infrastructure.Data;
using SliceApi.Infrastructure.Endpoints;
using SliceApi.Infrastructure.Security;

namespace SliceApi.Features.Tasks;

/// <summary>
/// Body of <c>PUT /api/v1/tasks/{id}</c>: the full new state of a task's writable fields (PUT replaces: an absent
/// optional field becomes null, an absent status <c>todo</c>).
/// </summary>
public sealed class UpdateTaskRequest : ITaskFields
{
    /// <summary>The task's id (from the route).</summary>
    [RouteParam]
    public Guid Id { get; set; }

    /// <summary>1 to 200 characters after trimming; stored trimmed.</summary>
    public string Title { get; set; } = "";

    /// <summary>At most 4,000 characters.</summary>
    public string? Description { get; set; }

    /// <summary>Deadline as an RFC 3339 date-time with offset; stored in UTC.</summary>
    public DateTimeOffset? DueAt { get; set; }

    /// <summary><c>todo</c> (default), <c>in_progress</c> or <c>done</c>.</summary>
    public TaskItemStatus? Status { get; set; }

    /// <summary>The id of the user to assign it to (owner or admin only); null for none.</summary>
    public Guid? AssigneeId { get; set; }
}

/// <summary>Shape rules of <see cref="UpdateTaskRequest"/>: the same as for creation.</summary>
internal sealed class UpdateTaskValidator : Validator<UpdateTaskRequest>
{
    public UpdateTaskValidator() => Include(new TaskFieldsValidator());
}

/// <summary>
/// <c>PUT /api/v1/tasks/{id}</c>: replaces the writable fields of a task (its owner or an admin; an assignee gets 403).
/// If-Match with a stale ETag is 412; without If-Match, concurrent writes take turns and each applies to the latest revision.
/// </summary>
internal sealed class UpdateTask(IDocumentSession session, IDocumentStore documents, TimeProvider clock)
    : Endpoint<UpdateTaskRequest, Results<Ok<TaskResponse>, ValidationProblem, ProblemHttpResult>>
{
    public override void Configure()
    {
        Put("tasks/{id}");
        Group<TasksGroup>();
        Definition.ChangesOneTask();
        Summary(s =>
        {
            s.Summary = "Replace a task's title, description, deadline and status";
            // The route's id is not part of the body.
            s.ExampleRequest = new { title = "Pay rent", description = "Paid by bank transfer", dueAt = "2026-12-01T17:00:00Z", status = "done" };
        });
    }

    public override async Task<Results<Ok<TaskResponse>, ValidationProblem, ProblemHttpResult>> ExecuteAsync(UpdateTaskRequest req, CancellationToken ct)
    {
        var (task, refused) = await session.LoadForChangeAsync(req.Id, HttpContext, ownerOnly: true, ct);
        if (task is null)
        {
            return refused!;
        }

        if (await TaskItemAccess.CheckAssigneeAsync(documents, req.AssigneeId, ct) is { } unknownAssignee)
        {
            return unknownAssignee;
        }

        var before = TaskResponse.From(task);
        req.ApplyTo(task);
        task.UpdatedAt = clock.GetStoredUtcNow();
        TaskHistory.Changed(session, User, before, task);
        await TaskETag.SaveAsync(session, task, HttpContext, ct);
        return TypedResults.Ok(TaskResponse.From(task));
    }
}
