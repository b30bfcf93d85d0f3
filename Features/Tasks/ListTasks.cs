using FastEndpoints;
using FluentValidation;
using Microsoft.AspNetCore.Http.HttpResults;
using Marten;
using SliceApi.Infrastructure.Endpoints;
using SliceApi.Infrastructure.Json;
using SliceApi.Infrastructure.Paging;
using SliceApi.Infrastructure.Security;
using SliceApi.Infrastructure.Validation;

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
    [System.ComponentModel.DataAnnotations.MaxLength(3)]
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
public sealed record ListTasksResponse(
    [property: System.ComponentModel.DataAnnotations.MaxLength(ListTasks.MaxLimit)] IReadOnlyList<TaskResponse> Items, [property: System.ComponentModel.DataAnnotations.MaxLength(2048)] string? NextCursor);

/// <summary>Shape rules of <see cref="ListTasksQuery"/>; each failure names the query parameter to fix.</summary>
internal sealed class ListTasksValidator : Validator<ListTasksQuery>
{
    public ListTasksValidator()
    {
        RuleFor(x => x.Limit).InclusiveBetween(1, ListTasks.MaxLimit);
        RuleFor(x => x.Status).EachOneOf(TaskItem.Names)
            .Must(s => s is null || s.Length <= TaskItem.Names.Length).WithMessage($"'status' may be given at most {TaskItem.Names.Length} times.");
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
        RuleFor(x => x.Cursor).MaximumLength(TaskListCursor.MaxTextLength);
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

// Each shape of the query is backed by an index of TaskItemMapping (ListTaskPlansTests checks the plans on 1,000,000
// tasks): (created_at, id), (due_sort_key, id) and (title, id) for the orders, each also behind owner_id and assignee_id
// for a user's and a guest's tasks, trigram GIN indexes (pg_trgm) for q. The cursor seeks with a row-value comparison
// on the duplicated columns, which the index serves as one range, however deep the page.
/// <summary>
/// <c>GET /api/v1/tasks</c>: the tasks the caller may see (TaskItemAccess), filtered and sorted, paged by an opaque
/// keyset cursor on (sort key, id), with the next page also in a <c>Link: &lt;...&gt;; rel="next"</c> header (RFC 8288).
/// </summary>
internal sealed class ListTasks(IQuerySession session) : Endpoint<ListTasksQuery, Ok<ListTasksResponse>>
{
    public const int MaxLimit = 100;
    public const int MaxSearchLength = 200;
    private const int DefaultLimit = 20;

    public override void Configure()
    {
        Get("tasks");
        Group<TasksGroup>();
        Definition.CallableWithScope(ApiScopes.TasksRead);
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

    public override async Task<Ok<ListTasksResponse>> ExecuteAsync(ListTasksQuery req, CancellationToken ct)
    {
        var limit = req.Limit ?? DefaultLimit;
        var sort = TaskSort.Parse(req.Sort) ?? TaskSort.Default;
        var me = User.GetUserId();
        var query = new PageQuery(sort, limit + 1);
        if (req.Status is { Length: > 0 } names)
        {
            var serializer = session.DocumentStore.Options.Serializer();
            string[] stored = [.. names.Select(n => serializer.ToJson(TaskItem.ParseName(n)!.Value).Trim('"')).Distinct()];
            query.Filter("d.data ->> 'status' = ANY(?)", (object)stored); // one argument, not one per element
        }

        // Deadlines compare through the sort key, so the due-sort indexes serve the range as well as the order.
        if (Rfc3339DateTimeOffsetConverter.TryParse(req.DueBefore, out var before))
        {
            query.Filter("d.due_sort_key < ?", before.ToUniversalTime());
        }

        if (Rfc3339DateTimeOffsetConverter.TryParse(req.DueAfter, out var after))
        {
            query.Filter("d.due_sort_key >= ? AND d.due_sort_key < 'infinity'", after.ToUniversalTime());
        }

        if (req.AssigneeId is { } assignee)
        {
            query.Filter("d.assignee_id = ?", assignee);
        }

        if (req.Q is { } q)
        {
            // ILIKE with the backslash escape (PostgreSQL's default), so %, _ and \ in q match themselves.
            var pattern = $"%{EscapeLike(q)}%";
            query.Filter("(d.title ILIKE ? OR d.description ILIKE ?)", pattern, pattern);
        }

        if (TaskListCursor.TryDecode(req.Cursor, out var cursor))
        {
            query.After(cursor);
        }

        var (sql, arguments) = TaskItemAccess.ListAudienceOf(User) switch
        {
            TaskItemAccess.ListAudience.All => query.Build(),
            TaskItemAccess.ListAudience.Assigned => query.Build(("d.assignee_id = ?", [me])),
            _ => query.Build(("d.owner_id = ?", [me]), ("d.assignee_id = ? AND d.owner_id <> ?", [me, me])),
        };
        var page = (await session.QueryAsync<TaskItem>(sql, ct, arguments)).Select(TaskResponse.From).ToList();
        string? next = null;
        if (page.Count > limit)
        {
            page.RemoveAt(limit);
            next = TaskListCursor.After(page[^1], sort).Encode();
        }

        NextPageLink.Write(HttpContext, next);
        return TypedResults.Ok(new ListTasksResponse(page, next));
    }

    /// <summary>
    /// One page of the list in SQL over the document table's duplicated columns: the filters, the keyset seek as a
    /// row-value comparison (one index range however deep the page), the order and the limit. A user's tasks are the
    /// UNION ALL of the tasks they own and those assigned to them that they do not own, each half read in order from its
    /// own owner or assignee index and cut at the limit, so the cost follows the page, not the user's task count (an OR
    /// would leave the planner to choose between a bitmap of all of them and filtering the whole table in list order).
    /// </summary>
    private sealed class PageQuery(TaskSort sort, int take)
    {
        private readonly List<string> filters = [];
        private readonly List<object> arguments = [];

        private string Key => sort.Field switch
        {
            TaskSortField.CreatedAt => "created_at",
            TaskSortField.DueAt => "due_sort_key",
            _ => "title",
        };

        private string Order => sort.Descending ? $"{Key} DESC, id DESC" : $"{Key}, id";

        public void Filter(string sql, params object[] values)
        {
            filters.Add(sql);
            arguments.AddRange(values);
        }

        public void After(TaskListCursor cursor) => Filter(
            $"(d.{Key}, d.id) {(sort.Descending ? "<" : ">")} (?, ?)",
            sort.Field == TaskSortField.Title ? cursor.Title ?? "" : cursor.Time ?? TaskItem.NoDeadline,
            cursor.Id);

        /// <summary>The statement and its arguments, in placeholder order; one SELECT per audience part, joined by UNION ALL.</summary>
        public (string Sql, object[] Arguments) Build(params (string Sql, object[] Arguments)[] audience)
        {
            var parts = audience.Length == 0 ? [(Sql: "true", Arguments: Array.Empty<object>())] : audience;
            var all = new List<object>();
            var selects = new List<string>();
            foreach (var part in parts)
            {
                var where = string.Join(" AND ", filters.Prepend(part.Sql).Select(f => $"({f})"));
                selects.Add($"(SELECT d.data, d.id, d.{Key} FROM public.mt_doc_taskitem AS d WHERE {where} ORDER BY d.{Order.Replace(", id", ", d.id", StringComparison.Ordinal)} LIMIT ?)");
                all.AddRange(part.Arguments);
                all.AddRange(arguments);
                all.Add(take);
            }

            var sql = selects.Count == 1
                ? $"SELECT data FROM {selects[0]} AS page ORDER BY {Order}"
                : $"SELECT data FROM ({string.Join(" UNION ALL ", selects)}) AS page ORDER BY {Order} LIMIT ?";
            if (selects.Count > 1)
            {
                all.Add(take);
            }

            return (sql, [.. all]);
        }
    }

    private static string EscapeLike(string text) =>
        text.Replace(@"\", @"\\", StringComparison.Ordinal).Replace("%", @"\%", StringComparison.Ordinal).Replace("_", @"\_", StringComparison.Ordinal);
}
