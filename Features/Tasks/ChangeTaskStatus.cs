using FastEndpoints;
using FluentValidation;
using Microsoft.AspNetCore.Http.HttpResults;
using Marten;
using SliceApi.Infrastructure.Data;
using SliceApi.Infrastructure.Endpoints;
using SliceApi.Infrastructure.Security;

namespace SliceApi.Features.Tasks;

/// <summary>Body of <c>PUT /api/v1/tasks/{id}/status</c>: a task's new status.</summary>
public sealed class ChangeTaskStatusRequest
{
    /// <summary>The task's id (from the route).</summary>
    [RouteParam]
    public Guid Id { get; set; }

    /// <summary><c>todo</c>, <c>in_progress</c> or <c>done</c>.</summary>
    public TaskItemStatus? Status { get; set; }
}

/// <summary>Shape rules of <see cref="ChangeTaskStatusRequest"/>.</summary>
internal sealed class ChangeTaskStatusValidator : Validator<ChangeTaskStatusRequest>
{
    public ChangeTaskStatusValidator() => RuleFor(x => x.Status).NotNull().IsInEnum();
}

/// <summary>
/// <c>PUT /api/v1/tasks/{id}/status</c>: sets a task's status; the owner, an admin, or the assignee (the one change
/// an assignee may make). Guests change nothing.
/// </summary>
internal sealed class ChangeTaskStatus(IDocumentSession session, TimeProvider clock)
    : Endpoint<ChangeTaskStatusRequest, Results<Ok<TaskResponse>, ProblemHttpResult>>
{
    public override void Configure()
    {
        Put("tasks/{id}/status");
        Group<TasksGroup>();
        Definition.ChangesOneTask();
        Summary(s =>
        {
            s.Summary = "Change a task's status (owner, admin or assignee)";
            s.ExampleRequest = new { status = "in_progress" }; // the route's id is not part of the body
        });
    }

    public override async Task<Results<Ok<TaskResponse>, ProblemHttpResult>> ExecuteAsync(ChangeTaskStatusRequest req, CancellationToken ct)
    {
        var (task, refused) = await session.LoadForChangeAsync(req.Id, HttpContext, ownerOnly: false, ct);
        if (task is null)
        {
            return refused!;
        }

        var before = TaskResponse.From(task);
        task.Status = req.Status!.Value;
        task.UpdatedAt = clock.GetStoredUtcNow();
        TaskHistory.Changed(session, User, before, task);
        await TaskETag.SaveAsync(session, task, HttpContext, ct);
        return TypedResults.Ok(TaskResponse.From(task));
    }
}
