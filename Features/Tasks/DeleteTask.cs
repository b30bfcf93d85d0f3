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
        var (task, refused) = await session.LoadForChangeAsync(req.Id, HttpContext, ownerOnly: true, ct);
        if (task is null)
        {
            return refused!;
        }

        TaskHistory.Deleted(session, User, task);
        session.Delete(task);
        await session.SaveChangesAsync(ct);
        return TypedResults.NoContent();
    }
}
