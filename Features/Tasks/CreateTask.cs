using System.Diagnostics.Metrics;
using FastEndpoints;
using Marten;
using Microsoft.AspNetCore.Http.HttpResults;
using SliceApi.Infrastructure.Data;
using SliceApi.Infrastructure.Endpoints;
using SliceApi.Infrastructure.Http;
using SliceApi.Infrastructure.Security;
using SliceApi.Infrastructure.Telemetry;

namespace SliceApi.Features.Tasks;

/// <summary>Body of <c>POST /api/v1/tasks</c>: a new task.</summary>
public sealed class CreateTaskRequest : ITaskFields
{
    /// <summary>1 to 200 characters after trimming; stored trimmed.</summary>
    public string Title { get; set; } = "";

    /// <summary>At most 4,000 characters.</summary>
    public string? Description { get; set; }

    /// <summary>Deadline as an RFC 3339 date-time with offset, e.g. <c>2026-12-01T17:00:00Z</c>; stored in UTC.</summary>
    public DateTimeOffset? DueAt { get; set; }

    /// <summary><c>todo</c> (default), <c>in_progress</c> or <c>done</c>.</summary>
    public TaskItemStatus? Status { get; set; }

    /// <summary>The id of the user to assign it to (owner or admin only); null for none.</summary>
    public Guid? AssigneeId { get; set; }
}

/// <summary>Shape rules of <see cref="CreateTaskRequest"/>.</summary>
internal sealed class CreateTaskValidator : Validator<CreateTaskRequest>
{
    public CreateTaskValidator() => Include(new TaskFieldsValidator());
}

/// <summary>
/// <c>POST /api/v1/tasks</c>: creates a task owned by the caller (roles admin and user). With an
/// <c>Idempotency-Key</c> header a retry replays the first outcome instead of creating another task.
/// </summary>
internal sealed class CreateTask(IDocumentSession session, IDocumentStore documents, TimeProvider clock, IMeterFactory meters)
    : Endpoint<CreateTaskRequest, Results<Created<TaskResponse>, ValidationProblem>>
{
    public override void Configure()
    {
        Post("tasks");
        Group<TasksGroup>();
        Roles(AppRoles.Admin, AppRoles.User);
        Definition.CallableWithScope(ApiScopes.TasksWrite);
        Definition.IdempotencyKey<CreateTaskRequest>();
        Summary(s =>
        {
            s.Summary = "Create a task";
            s.ExampleRequest = new CreateTaskRequest
            {
                Title = "Pay rent", Description = "Transfer to the landlord's account",
                DueAt = new DateTimeOffset(2026, 12, 1, 17, 0, 0, TimeSpan.Zero), Status = TaskItemStatus.Todo,
            };
        });
    }

    public override async Task<Results<Created<TaskResponse>, ValidationProblem>> ExecuteAsync(CreateTaskRequest req, CancellationToken ct)
    {
        if (await TaskItemAccess.CheckAssigneeAsync(documents, req.AssigneeId, ct) is { } unknownAssignee)
        {
            return unknownAssignee;
        }

        var now = clock.GetStoredUtcNow();
        var task = new TaskItem
        {
            Id = Guid.CreateVersion7(),
            OwnerId = User.GetUserId(),
            Title = req.Title.Trim(),
            Description = req.Description,
            Status = req.Status ?? TaskItemStatus.Todo,
            AssigneeId = req.AssigneeId,
            DueAt = req.DueAt is { } due ? due.ToStoredPrecision() : null,
            CreatedAt = now,
            UpdatedAt = now,
        };
        session.Insert(task);
        TaskHistory.Created(session, User, task);
        await session.SaveChangesAsync(ct);
        meters.ApiCounter("sliceapi.tasks.created", "{task}", "Tasks created (an idempotent replay creates none).").Add(1);
        TaskETag.Write(HttpContext.Response, task.Version);
        return TypedResults.Created($"{ApiEndpoints.V1Prefix}/tasks/{task.Id}", TaskResponse.From(task));
    }
}
