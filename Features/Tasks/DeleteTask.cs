using FastEndpoints;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using SliceApi.Infrastructure.Data;
using SliceApi.Infrastructure.Endpoints;
using SliceApi.Infrastructure.Security;

namespace SliceApi.Features.Tasks;

/// <summary>Route of <c>DELETE /api/v1/tasks/{id}</c>.</summary>
public sealed class DeleteTaskRequest
{
    /// <summary>The task's id.</summary>
    public Guid Id { get; set; }
}

/// <summary><c>DELETE /api/v1/tasks/{id}</c>: deletes a task (its owner or an admin; an assignee gets 403).</summary>
internal sealed class DeleteTask(AppDbContext db) : Endpoint<DeleteTaskRequest, Results<NoContent, ProblemHttpResult>>
{
    public override void Configure()
    {
        Delete("tasks/{id}");
        Group<TasksGroup>();
        Roles(AppRoles.Admin, AppRoles.User);
        Definition.ApiKeyScope(ApiScopes.TasksWrite);
        Description(b => b.ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict)
                          .ProducesProblem(StatusCodes.Status412PreconditionFailed));
        Summary(s => s.Summary = "Delete a task");
    }

    public override async Task<Results<NoContent, ProblemHttpResult>> ExecuteAsync(DeleteTaskRequest req, CancellationToken ct)
    {
        var http = HttpContext;
        var task = await db.Set<TaskItem>().VisibleTo(User).FirstOrDefaultAsync(t => t.Id == req.Id, ct);
        if (task is null)
        {
            return TaskItemAccess.NotFound(req.Id);
        }

        if (!User.MayEdit(task))
        {
            return TaskItemAccess.OwnerOnly();
        }

        if (TaskETag.IfMatchFails(http.Request, task.Version))
        {
            return TaskETag.PreconditionFailed(task.Version);
        }

        // Deletes only the version checked above; a concurrent change in between makes this match nothing.
        var version = task.Version;
        var deleted = await db.Set<TaskItem>().Where(t => t.Id == req.Id && t.Version == version).ExecuteDeleteAsync(ct);
        if (deleted == 0 && TaskETag.HasIfMatch(http.Request))
        {
            return TaskETag.PreconditionFailed(version);
        }

        return deleted == 0
            ? TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "The task was changed by another request.", detail: "Read it again and retry.")
            : TypedResults.NoContent();
    }
}
