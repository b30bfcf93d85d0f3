using System.Collections.Concurrent;
using System.Linq.Expressions;
using FastEndpoints;
using FluentValidation;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Query;
using SliceApi.Infrastructure.Data;
using SliceApi.Infrastructure.Endpoints;
using SliceApi.Infrastructure.Json;
using SliceApi.Infrastructure.Paging;
using SliceApi.Infrastructure.Security;
using SliceApi.Infrastructure.Validation;

using PageQuery = System.Func<SliceApi.Infrastructure.Data.AppDbContext, System.Guid, SliceApi.Features.Tasks.TaskItemStatus[]?, System.DateTimeOffset?,
    System.DateTimeOffset?, System.Guid?, string?, bool, System.DateTimeOffset, string, System.Guid, int,
    System.Collections.Generic.IAsyncEnumerable<SliceApi.Features.Tasks.TaskItem>>;

namespace SliceApi.Features.Tasks;

/// <summary>Query string of <c>GET /api/v1/tasks</c>. Every filter narrows the list; they combine with AND.</summary>
public sealed class ListTasksQuery
{
    /// <summary>Page size, 1 to 100 (default 20).</summary>
    [QueryParam]
    public int? Limit { get; set; }

    /// <summary>The <c>nextCursor</c> of the previous page (or follow the <c>Link</c> header); absent for the first page.</summary>
    [QueryParam]
    public string? Cursor { get; set; }

    /// <summary>Only tasks in one of these statuses: <c>todo</c>, <c>in_progress</c>, <c>done</c>; repeat the parameter for several.</summary>
    [QueryParam]
    public string[]? Status { get; set; }

    /// <summary>Only tasks due strictly before this RFC 3339 date-time (offset required; send <c>+</c> as <c>%2B</c>).</summary>
    [QueryParam]
    public string? DueBefore { get; set; }

    /// <summary>Only tasks due at or after this RFC 3339 date-time, so consecutive windows neither overlap nor leave gaps.</summary>
    [QueryParam]
    public string? DueAfter { get; set; }

    /// <summary>Only tasks assigned to this user id.</summary>
    [QueryParam]
    public Guid? AssigneeId { get; set; }

    /// <summary>Only tasks whose title or description contains this text, ignoring case; 1 to 200 characters.</summary>
    [QueryParam]
    public string? Q { get; set; }

    /// <summary>
    /// <c>createdAt</c>, <c>dueAt</c> or <c>title</c>, ascending, or descending with a leading <c>-</c>; default <c>-createdAt</c>
    /// (newest first). Ties are broken by id in the same direction. With <c>dueAt</c>, tasks without a deadline come last
    /// ascending and first descending.
    /// </summary>
    [QueryParam]
    public string? Sort { get; set; }
}

/// <summary>One page of tasks in the requested order.</summary>
/// <param name="Items">At most <c>limit</c> tasks.</param>
/// <param name="NextCursor">Pass as <c>cursor</c> (with the same <c>sort</c>) to get the next page; null on the last page.</param>
public sealed record ListTasksResponse(IReadOnlyList<TaskResponse> Items, string? NextCursor);

/// <summary>Shape rules of <see cref="ListTasksQuery"/>; each failure names the query parameter to fix.</summary>
internal sealed class ListTasksValidator : Validator<ListTasksQuery>
{
    public ListTasksValidator()
    {
        RuleFor(x => x.Limit).InclusiveBetween(1, ListTasks.MaxLimit);
        RuleFor(x => x.Status).EachOneOf(TaskItem.Names);
        RuleFor(x => x.DueBefore).Rfc3339DateTime();
        RuleFor(x => x.DueAfter).Rfc3339DateTime();
        RuleFor(x => x.DueBefore)
            .Must((query, before) => !(Rfc3339DateTimeOffsetConverter.TryParse(before, out var b)
                                       && Rfc3339DateTimeOffsetConverter.TryParse(query.DueAfter, out var a) && a >= b))
            .WithMessage("'dueBefore' must be later than 'dueAfter'; the window between them is empty.");
        RuleFor(x => x.Q).Cascade(CascadeMode.Stop)
            .Length(1, ListTasks.MaxSearchLength)
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
internal sealed class ListTasks(AppDbContext db) : Endpoint<ListTasksQuery, Ok<ListTasksResponse>>
{
    public const int MaxLimit = 100;
    public const int MaxSearchLength = 200;
    private const int DefaultLimit = 20;

    public override void Configure()
    {
        Get("tasks");
        Group<TasksGroup>();
        Definition.ApiKeyScope(ApiScopes.TasksRead);
        Summary(s =>
        {
            s.Summary = "List tasks: filter, sort and page by cursor";
            s.ResponseHeaders.Add(new ResponseHeader(200, "Link")
            {
                Description = "The next page (RFC 8288), absent on the last page.",
                Example = "</api/v1/tasks?cursor=eyJ...&limit=20>; rel=\"next\"",
            });
        });
    }

    // One compiled query per shape (3 audiences x 6 orders), built on first use; every filter is a parameter that is
    // null when absent, so PostgreSQL folds it away when it plans each call (ListTaskPlansTests checks the plans).
    // Compiled, a page skips EF's per-request LINQ work (bench/run.sh list_*, README's Performance section). EF's
    // compiled queries take scalar parameters only, hence the templates over PageParameters bound below.
    private static readonly ConcurrentDictionary<(TaskItemAccess.ListAudience, TaskSort), PageQuery> Pages = new();

    public override async Task<Ok<ListTasksResponse>> ExecuteAsync(ListTasksQuery req, CancellationToken ct)
    {
        var query = req;
        var caller = User;
        var limit = query.Limit ?? DefaultLimit;
        var sort = TaskSort.Parse(query.Sort) ?? TaskSort.Default;
        var a = PageParameters.From(query, caller.GetUserId(), limit + 1);
        var compiled = Pages.GetOrAdd((TaskItemAccess.ListAudienceOf(caller), sort), static shape => PageQueries.Compile(shape.Item1, shape.Item2));

        var page = new List<TaskResponse>(limit + 1);
        await foreach (var task in compiled(db, a.Me, a.Statuses, a.DueBefore, a.DueAfter, a.AssigneeId, a.Pattern,
                           a.HasCursor, a.CursorTime, a.CursorTitle, a.CursorId, a.Take).WithCancellation(ct))
        {
            page.Add(TaskResponse.From(task));
        }

        string? next = null;
        if (page.Count > limit)
        {
            page.RemoveAt(limit);
            next = TaskListCursor.After(page[^1], sort).Encode();
        }

        NextPageLink.Write(HttpContext, next);
        return TypedResults.Ok(new ListTasksResponse(page, next));
    }

    /// <summary>The parameters of every list query, in the order of <see cref="PageQuery"/>'s arguments.</summary>
    private sealed record PageParameters(
        Guid Me, TaskItemStatus[]? Statuses, DateTimeOffset? DueBefore, DateTimeOffset? DueAfter, Guid? AssigneeId, string? Pattern,
        bool HasCursor, DateTimeOffset CursorTime, string CursorTitle, Guid CursorId, int Take)
    {
        public static PageParameters From(ListTasksQuery query, Guid me, int take)
        {
            var hasCursor = TaskListCursor.TryDecode(query.Cursor, out var cursor);
            return new(
                me,
                query.Status is { Length: > 0 } names ? names.Select(n => TaskItem.ParseName(n)!.Value).Distinct().ToArray() : null,
                Rfc3339DateTimeOffsetConverter.TryParse(query.DueBefore, out var before) ? before.ToUniversalTime() : null,
                Rfc3339DateTimeOffsetConverter.TryParse(query.DueAfter, out var after) ? after.ToUniversalTime() : null,
                query.AssigneeId,
                query.Q is { } q ? $"%{EscapeLike(q)}%" : null,
                hasCursor,
                hasCursor ? cursor.Time ?? DateTimeOffset.MaxValue : default, // no deadline: the sort key 'infinity'
                hasCursor ? cursor.Title ?? "" : "",
                hasCursor ? cursor.Id : default,
                take);
        }
    }

    /// <summary>Builds the compiled list query of one shape from the templates below.</summary>
    private static class PageQueries
    {
        // Filters, as one template; `a` stands for the query's parameters. Deadlines compare through the dueAt sort
        // key, so ix_tasks_due_sort_id serves the range as well as the order.
        private static readonly Expression<Func<TaskItem, PageParameters, bool>> Filters = (t, a) =>
            (a.Statuses == null || a.Statuses.Contains(t.Status))
            && (a.DueBefore == null || (t.DueAt ?? DateTimeOffset.MaxValue) < a.DueBefore)
            && (a.DueAfter == null || ((t.DueAt ?? DateTimeOffset.MaxValue) >= a.DueAfter && t.DueAt != null))
            && (a.AssigneeId == null || t.AssigneeId == a.AssigneeId)
            && (a.Pattern == null || EF.Functions.ILike(t.Title, a.Pattern, LikeEscape) || EF.Functions.ILike(t.Description!, a.Pattern, LikeEscape));

        // Keyset: row-value comparisons, so the index range starts right after the cursor's position.
        private static Expression<Func<TaskItem, PageParameters, bool>> After(TaskSort sort) => (sort.Field, sort.Descending) switch
        {
            (TaskSortField.CreatedAt, false) => (t, a) => !a.HasCursor || EF.Functions.GreaterThan(ValueTuple.Create(t.CreatedAt, t.Id), ValueTuple.Create(a.CursorTime, a.CursorId)),
            (TaskSortField.CreatedAt, true) => (t, a) => !a.HasCursor || EF.Functions.LessThan(ValueTuple.Create(t.CreatedAt, t.Id), ValueTuple.Create(a.CursorTime, a.CursorId)),
            (TaskSortField.DueAt, false) => (t, a) => !a.HasCursor || EF.Functions.GreaterThan(ValueTuple.Create(t.DueAt ?? DateTimeOffset.MaxValue, t.Id), ValueTuple.Create(a.CursorTime, a.CursorId)),
            (TaskSortField.DueAt, true) => (t, a) => !a.HasCursor || EF.Functions.LessThan(ValueTuple.Create(t.DueAt ?? DateTimeOffset.MaxValue, t.Id), ValueTuple.Create(a.CursorTime, a.CursorId)),
            (TaskSortField.Title, false) => (t, a) => !a.HasCursor || EF.Functions.GreaterThan(ValueTuple.Create(t.Title, t.Id), ValueTuple.Create(a.CursorTitle, a.CursorId)),
            _ => (t, a) => !a.HasCursor || EF.Functions.LessThan(ValueTuple.Create(t.Title, t.Id), ValueTuple.Create(a.CursorTitle, a.CursorId)),
        };

        private static LambdaExpression SortKey(TaskSortField field) => field switch
        {
            TaskSortField.CreatedAt => (Expression<Func<TaskItem, DateTimeOffset>>)(t => t.CreatedAt),
            TaskSortField.DueAt => (Expression<Func<TaskItem, DateTimeOffset>>)(t => t.DueAt ?? DateTimeOffset.MaxValue),
            _ => (Expression<Func<TaskItem, string>>)(t => t.Title),
        };

        public static PageQuery Compile(TaskItemAccess.ListAudience audience, TaskSort sort)
        {
            var db = Expression.Parameter(typeof(AppDbContext), "db");
            var arguments = typeof(PageParameters).GetConstructors()[0].GetParameters()
                .Select(p => Expression.Parameter(p.ParameterType, char.ToLowerInvariant(p.Name![0]) + p.Name[1..])).ToList();
            var byName = arguments.ToDictionary(p => p.Name!, StringComparer.OrdinalIgnoreCase);

            var source = TaskItemAccess.ListSource(audience);
            Expression query = Bind(source.Body, (source.Parameters[0], db), (source.Parameters[1], byName["me"]));
            query = Call(nameof(Queryable.Where), query, Predicate(Filters, byName));
            query = Call(nameof(Queryable.Where), query, Predicate(After(sort), byName));
            query = Call(sort.Descending ? nameof(Queryable.OrderByDescending) : nameof(Queryable.OrderBy), query, SortKey(sort.Field));
            query = Call(sort.Descending ? nameof(Queryable.ThenByDescending) : nameof(Queryable.ThenBy), query, (Expression<Func<TaskItem, Guid>>)(t => t.Id));
            query = Expression.Call(typeof(Queryable), nameof(Queryable.Take), [typeof(TaskItem)], query, byName["take"]);

            return EF.CompileAsyncQuery(Expression.Lambda<Func<AppDbContext, Guid, TaskItemStatus[]?, DateTimeOffset?, DateTimeOffset?, Guid?, string?,
                bool, DateTimeOffset, string, Guid, int, IQueryable<TaskItem>>>(query, [db, .. arguments]));
        }

        // (t, a) => body  becomes  t => body, with every a.X replaced by the compiled query's parameter x.
        private static Expression<Func<TaskItem, bool>> Predicate(Expression<Func<TaskItem, PageParameters, bool>> template, Dictionary<string, ParameterExpression> arguments) =>
            Expression.Lambda<Func<TaskItem, bool>>(new ArgumentBinder(template.Parameters[1], arguments).Visit(template.Body), template.Parameters[0]);

        private static Expression Bind(Expression body, params (ParameterExpression From, Expression To)[] replacements) =>
            replacements.Aggregate(body, (current, r) => ReplacingExpressionVisitor.Replace(r.From, r.To, current));

        private static MethodCallExpression Call(string method, Expression source, LambdaExpression lambda) =>
            lambda.ReturnType == typeof(bool)
                ? Expression.Call(typeof(Queryable), method, [typeof(TaskItem)], source, Expression.Quote(lambda))
                : Expression.Call(typeof(Queryable), method, [typeof(TaskItem), lambda.ReturnType], source, Expression.Quote(lambda));

        private sealed class ArgumentBinder(ParameterExpression template, Dictionary<string, ParameterExpression> arguments) : ExpressionVisitor
        {
            protected override Expression VisitMember(MemberExpression node) =>
                node.Expression == template ? arguments[node.Member.Name] : base.VisitMember(node);
        }
    }

    // EF's ILike says ESCAPE '' unless told otherwise; with the backslash, %, _ and \ in q match themselves.
    private const string LikeEscape = @"\";

    private static string EscapeLike(string text) =>
        text.Replace(@"\", @"\\", StringComparison.Ordinal).Replace("%", @"\%", StringComparison.Ordinal).Replace("_", @"\_", StringComparison.Ordinal);
}
