using FastEndpoints;
using Microsoft.AspNetCore.Http.HttpResults;
using Marten;
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
internal sealed class DeleteTask(IDocumentSession session) : Endpoint<DeleteTaskRequest, Results<NoContent, ProblemHttpResult>>
{
    public override void Configure()
    {
        Delete("tasks/{id}");
        Group<TasksGroup>();
        Definition.ChangesOneTask();
        Summary(s => s.Summary = "Delete a task");
    }

    public override async Task<Results<NoContent, ProblemHttpResult>> ExecuteAsync(DeleteTaskRequest req, CancellationToken ct)
    {
        var http = HttpContext;
        var task = await session.LoadVisibleAsync(req.Id, User, ct);
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

        // Deletes only the revision checked above: the revision check of the same batch fails if a concurrent write
        // came in between, and then nothing is deleted.
        var version = task.Version;
        session.UpdateRevision(task, version + 1);
        session.Delete(task);
        try
        {
            await session.SaveChangesAsync(ct);
        }
        catch (JasperFx.ConcurrencyException)
        {
            return TaskETag.HasIfMatch(http.Request)
                ? TaskETag.PreconditionFailed(version + 1)
                : TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "The task was changed by another request.", detail: "Read it again and retry.");
        }

        return TypedResults.NoContent();
    }
}
