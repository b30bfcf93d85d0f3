using FastEndpoints;
using FluentValidation;
using Marten;
using Microsoft.AspNetCore.Http.HttpResults;
using SliceApi.Infrastructure.Endpoints;
using SliceApi.Infrastructure.Paging;
using SliceApi.Infrastructure.Security;

namespace SliceApi.Features.Tasks;

/// <summary>Route and query string of <c>GET /api/v1/tasks/{id}/history</c>.</summary>
public sealed class GetTaskHistoryQuery
{
    /// <summary>The task's id.</summary>
    public Guid Id { get; set; }

    /// <summary>Page size, 1 to 100 (default 20).</summary>
    [QueryParam]
    public int? Limit { get; set; }

    /// <summary>The <c>nextCursor</c> of the previous page (or follow the <c>Link</c> header); absent for the first page.</summary>
    [QueryParam]
    public string? Cursor { get; set; }
}

/// <summary>One page of a task's history, oldest first.</summary>
/// <param name="Items">At most <c>limit</c> events.</param>
/// <param name="NextCursor">Pass as <c>cursor</c> for the next page; null on the last page.</param>
public sealed record TaskHistoryResponse(
    [property: System.ComponentModel.DataAnnotations.MaxLength(GetTaskHistory.MaxLimit)] IReadOnlyList<TaskEventResponse> Items,
    [property: System.ComponentModel.DataAnnotations.MaxLength(20)] string? NextCursor);

/// <summary>Shape rules of <see cref="GetTaskHistoryQuery"/>.</summary>
internal sealed class GetTaskHistoryValidator : Validator<GetTaskHistoryQuery>
{
    public GetTaskHistoryValidator()
    {
        RuleFor(x => x.Limit).InclusiveBetween(1, GetTaskHistory.MaxLimit);
        RuleFor(x => x.Cursor).MaximumLength(19);
        RuleFor(x => x.Cursor).Must(c => c is null || GetTaskHistory.TryParseCursor(c, out _))
            .WithMessage("'cursor' must be a nextCursor value returned by this endpoint.");
    }
}

/// <summary>
/// <c>GET /api/v1/tasks/{id}/history</c>: every event of a task's stream, oldest first, paged by cursor (the last
/// event's version), with a <c>Link: &lt;...&gt;; rel="next"</c> header (RFC 8288). Whoever may see the task may read its
/// history; a deleted task's history is for admins only (others get 404, as for the task).
/// </summary>
internal sealed class GetTaskHistory(IQuerySession session) : Endpoint<GetTaskHistoryQuery, Results<Ok<TaskHistoryResponse>, ProblemHttpResult>>
{
    public const int MaxLimit = 100;

    public override void Configure()
    {
        Get("tasks/{id}/history");
        Group<TasksGroup>();
        Definition.CallableWithScope(ApiScopes.TasksRead);
        Description(b => b.ProducesProblem(StatusCodes.Status404NotFound));
        Summary(s =>
        {
            s.Summary = "A task's history: who changed what, oldest first, paged by cursor";
            s.ResponseHeaders.Add(new ResponseHeader(200, "Link")
            {
                Description = "The next page, RFC 8288: `</api/v1/tasks/{id}/history?cursor=...>; rel=\"next\"`; absent on the last page.",
                Example = "</api/v1/tasks/01939a6e-7f3c-7000-8000-000000000001/history?cursor=20>; rel=\"next\"",
            });
        });
    }

    public override async Task<Results<Ok<TaskHistoryResponse>, ProblemHttpResult>> ExecuteAsync(GetTaskHistoryQuery req, CancellationToken ct)
    {
        var task = await session.LoadAsync<TaskItem>(req.Id, ct);
        if (task is null ? !User.IsAdmin() : !User.MaySee(task))
        {
            return TaskItemAccess.NotFound(req.Id);
        }

        var limit = req.Limit ?? 20;
        _ = TryParseCursor(req.Cursor, out var after); // the validator refused any other
        var page = (await session.Events.QueryAllRawEvents()
            .Where(e => e.StreamId == req.Id && e.Version > after)
            .OrderBy(e => e.Version).Take(limit + 1).ToListAsync(ct)).ToList();
        if (task is null && page.Count == 0 && after == 0)
        {
            return TaskItemAccess.NotFound(req.Id); // no task and no history: never existed
        }

        string? next = null;
        if (page.Count > limit)
        {
            page.RemoveAt(limit);
            next = page[^1].Version.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        NextPageLink.Write(HttpContext, next);
        return TypedResults.Ok(new TaskHistoryResponse([.. page.Select(TaskEventResponse.From)], next));
    }

    /// <summary>Reads a cursor (a stream version, 1 or more); absent means 0 (the start).</summary>
    public static bool TryParseCursor(string? cursor, out long after)
    {
        after = 0;
        return cursor is null
            || (cursor.Length <= 19 && cursor.All(char.IsAsciiDigit) && long.TryParse(cursor, System.Globalization.CultureInfo.InvariantCulture, out after) && after > 0);
    }
}
