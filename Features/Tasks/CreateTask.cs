using System.Security.Claims;
using FluentValidation;
using Microsoft.AspNetCore.Http.HttpResults;
using SliceApi.Infrastructure.Data;
using SliceApi.Infrastructure.Endpoints;
using SliceApi.Infrastructure.OpenApi;
using SliceApi.Infrastructure.Http;
using SliceApi.Infrastructure.Security;
using SliceApi.Infrastructure.Validation;

namespace SliceApi.Features.Tasks;

/// <summary>A new task.</summary>
/// <param name="Title">1 to 200 characters after trimming; stored trimmed.</param>
/// <param name="Description">At most 4,000 characters.</param>
/// <param name="DueAt">Deadline as an RFC 3339 date-time with offset, e.g. <c>2026-12-01T17:00:00Z</c>; stored in UTC.</param>
/// <param name="Status"><c>todo</c> (default), <c>in_progress</c> or <c>done</c>.</param>
/// <param name="AssigneeId">The id of the user to assign it to (owner or admin only); null for none.</param>
public sealed record CreateTaskRequest(
    string Title, string? Description = null, DateTimeOffset? DueAt = null, TaskItemStatus? Status = null, Guid? AssigneeId = null) : ITaskFields;

/// <summary>Shape rules of <see cref="CreateTaskRequest"/>.</summary>
internal sealed class CreateTaskValidator : AbstractValidator<CreateTaskRequest>
{
    public CreateTaskValidator() => Include(new TaskFieldsValidator());
}

/// <summary>
/// <c>POST /api/v1/tasks</c>: creates a task owned by the caller (roles admin and user). With an
/// <c>Idempotency-Key</c> header a retry replays the first outcome instead of creating another task.
/// </summary>
internal sealed class CreateTaskEndpoint : IEndpoint
{
    public void Map(IEndpointRouteBuilder api) =>
        api.MapPost("/tasks", HandleAsync)
           .WithName("CreateTask")
           .RequireScope(Scopes.TasksWrite)
           .WithTags("Tasks")
           .WithSummary("Create a task")
           .RequireAuthorization(Policies.TaskWriter)
           .WithIdempotencyKey<CreateTaskRequest>()
           .WithRequestExample(new CreateTaskRequest("Pay rent", "Transfer to the landlord's account", new DateTimeOffset(2026, 12, 1, 17, 0, 0, TimeSpan.Zero), TaskItemStatus.Todo))
           .WithRequestValidation<CreateTaskRequest>();

    private static async Task<Results<Created<TaskResponse>, ValidationProblem>> HandleAsync(
        CreateTaskRequest request, ClaimsPrincipal caller, AppDbContext db, Marten.IDocumentStore documents, TimeProvider clock, HttpContext http, CancellationToken ct)
    {
        if (await TaskItemAccess.CheckAssigneeAsync(documents, request.AssigneeId, ct) is { } unknownAssignee)
        {
            return unknownAssignee;
        }

        var now = clock.GetStoredUtcNow();
        var task = new TaskItem
        {
            Id = Guid.CreateVersion7(),
            OwnerId = caller.GetUserId(),
            Title = request.Title.Trim(),
            Description = request.Description,
            Status = request.Status ?? TaskItemStatus.Todo,
            AssigneeId = request.AssigneeId,
            DueAt = request.DueAt is { } due ? due.ToStoredPrecision() : null,
            CreatedAt = now,
            UpdatedAt = now,
        };
        db.Add(task);
        await db.SaveChangesAsync(ct);
        TaskETag.Write(http.Response, task.Version);
        return TypedResults.Created($"{EndpointDiscovery.V1Prefix}/tasks/{task.Id}", TaskResponse.From(task));
    }
}
