using FastEndpoints;
using Microsoft.AspNetCore.Http.HttpResults;
using Marten;
using SliceApi.Infrastructure.Endpoints;
using SliceApi.Infrastructure.Security;

namespace SliceApi.Features.Tasks;

/// <summary>Route of <c>GET /api/v1/tasks/{id}</c>.</summary>
public sealed class GetTaskRequest
{
    /// <summary>The task's id.</summary>
    public Guid Id { get; set; }
}

/// <summary>
/// <c>GET /api/v1/tasks/{id}</c>: one task the caller may see, with a strong ETag; If-None-Match naming the current
/// version gives 304 with no body.
/// </summary>
internal sealed class GetTask(IQuerySession session) : Endpoint<GetTaskRequest, Results<Ok<TaskResponse>, StatusCodeHttpResult, ProblemHttpResult>>
{
    public override void Configure()
    {
        Get("tasks/{id}");
        Group<TasksGroup>();
        Definition.CallableWithScope(ApiScopes.TasksRead);
        Description(b => b.Produces(StatusCodes.Status304NotModified).ProducesProblem(StatusCodes.Status404NotFound));
        Summary(s => s.Summary = "Get a task");
    }

    public override async Task<Results<Ok<TaskResponse>, StatusCodeHttpResult, ProblemHttpResult>> ExecuteAsync(GetTaskRequest req, CancellationToken ct)
    {
        var task = await session.LoadVisibleAsync(req.Id, User, ct);
        var http = HttpContext;
        if (task is null)
        {
            return TaskItemAccess.NotFound(req.Id);
        }

        TaskETag.Write(http.Response, task.Version);
        return TaskETag.NoneMatchHits(http.Request, task.Version)
            ? TypedResults.StatusCode(StatusCodes.Status304NotModified)
            : TypedResults.Ok(TaskResponse.From(task));
    }
}
