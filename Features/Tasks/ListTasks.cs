using System.Security.Claims;
using FluentValidation;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using SliceApi.Infrastructure.Data;
using SliceApi.Infrastructure.Endpoints;
using SliceApi.Infrastructure.Json;
using SliceApi.Infrastructure.Paging;
using SliceApi.Infrastructure.Security;
using SliceApi.Infrastructure.Validation;

namespace SliceApi.Features.Tasks;

/// <summary>Query string of the task list. Every filter narrows the list; they combine with AND.</summary>
/// <param name="Limit">Page size, 1 to 100 (default 20).</param>
/// <param name="Cursor">The <c>nextCursor</c> of the previous page (or follow the <c>Link</c> header); absent for the first page.</param>
/// <param name="Status">Only tasks in one of these statuses: <c>todo</c>, <c>in_progress</c>, <c>done</c>; repeat the parameter for several.</param>
/// <param name="DueBefore">Only tasks due strictly before this RFC 3339 date-time (offset required; send <c>+</c> as <c>%2B</c>).</param>
/// <param name="DueAfter">Only tasks due at or after this RFC 3339 date-time, so consecutive windows neither overlap nor leave gaps.</param>
/// <param name="AssigneeId">Only tasks assigned to this user id.</param>
/// <param name="Q">Only tasks whose title or description contains this text, ignoring case; 1 to 200 characters.</param>
/// <param name="Sort">
/// <c>createdAt</c>, <c>dueAt</c> or <c>title</c>, ascending, or descending with a leading <c>-</c>; default <c>-createdAt</c>
/// (newest first). Ties are broken by id in the same direction. With <c>dueAt</c>, tasks without a deadline come last
/// ascending and first descending.
/// </param>
public sealed record ListTasksQuery(
    [property: FromQuery(Name = "limit")] int? Limit = null,
    [property: FromQuery(Name = "cursor")] string? Cursor = null,
    [property: FromQuery(Name = "status")] string[]? Status = null,
    [property: FromQuery(Name = "dueBefore")] string? DueBefore = null,
    [property: FromQuery(Name = "dueAfter")] string? DueAfter = null,
    [property: FromQuery(Name = "assigneeId")] Guid? AssigneeId = null,
    [property: FromQuery(Name = "q")] string? Q = null,
    [property: FromQuery(Name = "sort")] string? Sort = null);

/// <summary>One page of tasks in the requested order.</summary>
/// <param name="Items">At most <c>limit</c> tasks.</param>
/// <param name="NextCursor">Pass as <c>cursor</c> (with the same <c>sort</c>) to get the next page; null on the last page.</param>
public sealed record ListTasksResponse(IReadOnlyList<TaskResponse> Items, string? NextCursor);

/// <summary>Shape rules of <see cref="ListTasksQuery"/>; each failure names the query parameter to fix.</summary>
internal sealed class ListTasksValidator : AbstractValidator<ListTasksQuery>
{
    public ListTasksValidator()
    {
        RuleFor(x => x.Limit).InclusiveBetween(1, ListTasksEndpoint.MaxLimit);
        RuleFor(x => x.Status).EachOneOf(TaskItem.Names);
        RuleFor(x => x.DueBefore).Rfc3339DateTime();
        RuleFor(x => x.DueAfter).Rfc3339DateTime();
        RuleFor(x => x.DueBefore)
            .Must((query, before) => !(Rfc3339DateTimeOffsetConverter.TryParse(before, out var b)
                                       && Rfc3339DateTimeOffsetConverter.TryParse(query.DueAfter, out var a) && a >= b))
            .WithMessage("'dueBefore' must be later than 'dueAfter'; the window between them is empty.");
        RuleFor(x => x.Q).Cascade(CascadeMode.Stop)
            .Length(1, ListTasksEndpoint.MaxSearchLength)
            .Must(q => q is null || !string.IsNullOrWhiteSpace(q)).WithMessage("'q' must not be only spaces.");
        RuleFor(x => x.Sort).OneOf(TaskSort.Names);
        RuleFor(x => x.Cursor).Custom((cursor, context) =>
        {
            if (cursor is null)
            {
                return;
            }

            if (!TaskListCursor.TryDecode(cursor, out var position))
            {
                context.AddFailure("'cursor' must be a nextCursor value returned by this endpoint.");
            }
            else if (TaskSort.Parse(context.InstanceToValidate.Sort) is var sort && position.Sort != (sort ?? TaskSort.Default))
            {
                context.AddFailure($"'cursor' belongs to sort={position.Sort.Name}; send the same sort with it, or drop the cursor to start over.");
            }
        });
    }
}

/// <summary>
/// <c>GET /api/v1/tasks</c>: the tasks the caller may see (TaskItemAccess), filtered and sorted, paged by an opaque
/// keyset cursor on (sort key, id), with the next page also in a <c>Link: &lt;...&gt;; rel="next"</c> header (RFC 8288).
/// </summary>
/// <remarks>
/// Each shape of the query is backed by an index (migrations 0001, 0005 and 0007; ListTaskPlansTests checks the plans
/// on 1,000,000 tasks): created_at, COALESCE(due_at, 'infinity') and title each with id for the orders, owner and
/// assignee indexes for a user's tasks, trigram GIN indexes (pg_trgm) for <c>q</c>.
/// </remarks>
internal sealed class ListTasksEndpoint : IEndpoint
{
    public const int MaxLimit = 100;
    public const int MaxSearchLength = 200;
    private const int DefaultLimit = 20;

    public void Map(IEndpointRouteBuilder api) =>
        api.MapGet("/tasks", HandleAsync)
           .WithName("ListTasks")
           .RequireScope(Scopes.TasksRead)
           .WithTags("Tasks")
           .WithSummary("List tasks: filter, sort and page by cursor")
           .WithRequestValidation<ListTasksQuery>();

    // Composed per request from the filters present (EF caches the translation per query shape). A compiled query
    // per shape would save the per-request expression work (bench/run.sh list_*: see the README's Performance
    // section), but EF compiled queries take at most 15 scalar parameters and no parameter objects, so 18 shapes
    // (3 visibilities x 6 orders) would each need a hand-written copy; left for when the numbers demand it.
    private static async Task<Ok<ListTasksResponse>> HandleAsync(
        [AsParameters] ListTasksQuery query, ClaimsPrincipal caller, AppDbContext db, HttpContext http, CancellationToken ct)
    {
        var limit = query.Limit ?? DefaultLimit;
        var sort = TaskSort.Parse(query.Sort) ?? TaskSort.Default;
        var tasks = Filter(db.Set<TaskItem>().VisibleInListTo(caller), query);
        if (query.Cursor is not null && TaskListCursor.TryDecode(query.Cursor, out var after))
        {
            tasks = After(tasks, after);
        }

        var page = await OrderBy(tasks, sort).Take(limit + 1).Select(t => TaskResponse.From(t)).ToListAsync(ct);
        string? next = null;
        if (page.Count > limit)
        {
            page.RemoveAt(limit);
            next = TaskListCursor.After(page[^1], sort).Encode();
        }

        NextPageLink.Write(http, next);
        return TypedResults.Ok(new ListTasksResponse(page, next));
    }

    private static IQueryable<TaskItem> Filter(IQueryable<TaskItem> tasks, ListTasksQuery query)
    {
        if (query.Status is { Length: > 0 } names)
        {
            var statuses = names.Select(n => TaskItem.ParseName(n)!.Value).Distinct().ToArray();
            tasks = tasks.Where(t => statuses.Contains(t.Status));
        }

        // Deadlines compare through the dueAt sort key, so ix_tasks_due_sort_id serves the range as well as the order.
        if (Rfc3339DateTimeOffsetConverter.TryParse(query.DueBefore, out var before))
        {
            tasks = tasks.Where(t => (t.DueAt ?? EF.Constant(DateTimeOffset.MaxValue)) < before.ToUniversalTime());
        }

        if (Rfc3339DateTimeOffsetConverter.TryParse(query.DueAfter, out var dueAfter))
        {
            tasks = tasks.Where(t => (t.DueAt ?? EF.Constant(DateTimeOffset.MaxValue)) >= dueAfter.ToUniversalTime() && t.DueAt != null);
        }

        if (query.AssigneeId is { } assigneeId)
        {
            tasks = tasks.Where(t => t.AssigneeId == assigneeId);
        }

        if (query.Q is { } q)
        {
            var pattern = $"%{EscapeLike(q)}%";
            tasks = tasks.Where(t => EF.Functions.ILike(t.Title, pattern, LikeEscape) || EF.Functions.ILike(t.Description!, pattern, LikeEscape));
        }

        return tasks;
    }

    // Row-value comparisons, as keyset paging needs: the index range starts right after the cursor's position.
    // A task without a deadline has the sort key 'infinity' (DateTimeOffset.MaxValue in Npgsql).
    private static IQueryable<TaskItem> After(IQueryable<TaskItem> tasks, TaskListCursor after)
    {
        var id = after.Id;
        var time = after.Time ?? DateTimeOffset.MaxValue;
        var title = after.Title ?? "";
        return (after.Sort.Field, after.Sort.Descending) switch
        {
            (TaskSortField.CreatedAt, false) => tasks.Where(t => EF.Functions.GreaterThan(ValueTuple.Create(t.CreatedAt, t.Id), ValueTuple.Create(time, id))),
            (TaskSortField.CreatedAt, true) => tasks.Where(t => EF.Functions.LessThan(ValueTuple.Create(t.CreatedAt, t.Id), ValueTuple.Create(time, id))),
            (TaskSortField.DueAt, false) => tasks.Where(t => EF.Functions.GreaterThan(ValueTuple.Create(t.DueAt ?? EF.Constant(DateTimeOffset.MaxValue), t.Id), ValueTuple.Create(time, id))),
            (TaskSortField.DueAt, true) => tasks.Where(t => EF.Functions.LessThan(ValueTuple.Create(t.DueAt ?? EF.Constant(DateTimeOffset.MaxValue), t.Id), ValueTuple.Create(time, id))),
            (TaskSortField.Title, false) => tasks.Where(t => EF.Functions.GreaterThan(ValueTuple.Create(t.Title, t.Id), ValueTuple.Create(title, id))),
            _ => tasks.Where(t => EF.Functions.LessThan(ValueTuple.Create(t.Title, t.Id), ValueTuple.Create(title, id))),
        };
    }

    private static IQueryable<TaskItem> OrderBy(IQueryable<TaskItem> tasks, TaskSort sort) => (sort.Field, sort.Descending) switch
    {
        (TaskSortField.CreatedAt, false) => tasks.OrderBy(t => t.CreatedAt).ThenBy(t => t.Id),
        (TaskSortField.CreatedAt, true) => tasks.OrderByDescending(t => t.CreatedAt).ThenByDescending(t => t.Id),
        (TaskSortField.DueAt, false) => tasks.OrderBy(t => t.DueAt ?? EF.Constant(DateTimeOffset.MaxValue)).ThenBy(t => t.Id),
        (TaskSortField.DueAt, true) => tasks.OrderByDescending(t => t.DueAt ?? EF.Constant(DateTimeOffset.MaxValue)).ThenByDescending(t => t.Id),
        (TaskSortField.Title, false) => tasks.OrderBy(t => t.Title).ThenBy(t => t.Id),
        _ => tasks.OrderByDescending(t => t.Title).ThenByDescending(t => t.Id),
    };

    // EF's ILike says ESCAPE '' unless told otherwise; with the backslash, %, _ and \ in q match themselves.
    private const string LikeEscape = @"\";

    private static string EscapeLike(string text) =>
        text.Replace(@"\", @"\\", StringComparison.Ordinal).Replace("%", @"\%", StringComparison.Ordinal).Replace("_", @"\_", StringComparison.Ordinal);
}
