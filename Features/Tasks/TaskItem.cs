using System.Linq.Expressions;
using System.Security.Claims;
using Marten;
using Weasel.Postgresql.Tables;
using SliceApi.Infrastructure.Data;
using SliceApi.Infrastructure.Endpoints;
using SliceApi.Infrastructure.Security;

namespace SliceApi.Features.Tasks;

/// <summary>Where a task stands. On the wire and in the database: <c>todo</c>, <c>in_progress</c>, <c>done</c>.</summary>
public enum TaskItemStatus
{
    /// <summary><c>todo</c>: not started (the default).</summary>
    Todo,

    /// <summary><c>in_progress</c>: being worked on.</summary>
    InProgress,

    /// <summary><c>done</c>: finished.</summary>
    Done,
}

/// <summary>A task, a Marten document (table <c>mt_doc_taskitem</c>). Named TaskItem so it never collides with System.Threading.Tasks.Task.</summary>
internal sealed class TaskItem
{
    /// <summary>The task id, a version-7 GUID (so new tasks sort last by id).</summary>
    public Guid Id { get; init; }

    /// <summary>The user who created it; a foreign key to the user document (deleted with it).</summary>
    public Guid OwnerId { get; init; }

    /// <summary>The user the task is assigned to, if any.</summary>
    public Guid? AssigneeId { get; set; }

    /// <summary>1 to 200 characters, trimmed; duplicated into <c>title</c> with a trigram index for <c>q</c>.</summary>
    public required string Title { get; set; }

    /// <summary>At most 4,000 characters, or null; duplicated into <c>description</c> with a trigram index for <c>q</c>.</summary>
    public string? Description { get; set; }

    /// <summary>Where the task stands; stored by its C# name (<c>InProgress</c>), written to clients in snake_case.</summary>
    public TaskItemStatus Status { get; set; }

    /// <summary>Deadline, UTC at microsecond precision.</summary>
    public DateTimeOffset? DueAt
    {
        get => dueAt;
        set
        {
            dueAt = value;
            DueSortKey = value ?? NoDeadline;
        }
    }

    /// <summary>
    /// The deadline as the list sorts and filters it: <see cref="NoDeadline"/> (PostgreSQL's <c>infinity</c>) when there is
    /// none, so tasks without one come last ascending and first descending, and one index serves order and range.
    /// </summary>
    public DateTimeOffset DueSortKey { get; private set; } = NoDeadline;

    /// <summary>UTC, microsecond precision (PostgreSQL's), so list cursors round-trip exactly.</summary>
    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>UTC.</summary>
    public DateTimeOffset UpdatedAt { get; set; }

    /// <summary>Marten's numeric revision: 1 when created, one more with every write; sent as the strong ETag.</summary>
    public long Version { get; set; }

    /// <summary>The sort key of a task without a deadline (Npgsql writes it as <c>infinity</c>).</summary>
    public static readonly DateTimeOffset NoDeadline = DateTimeOffset.MaxValue;

    private DateTimeOffset? dueAt;

    /// <summary>Every status's wire name, in declaration order.</summary>
    public static readonly string[] Names = ["todo", "in_progress", "done"];

    /// <summary>Parses a wire name; null when it is not one.</summary>
    public static TaskItemStatus? ParseName(string? name) => name switch
    {
        "todo" => TaskItemStatus.Todo,
        "in_progress" => TaskItemStatus.InProgress,
        "done" => TaskItemStatus.Done,
        _ => null,
    };
}

/// <summary>
/// The storage of <see cref="TaskItem"/>: numeric revisions (the ETags); the columns the list filters and sorts on
/// duplicated out of the document, each order with its keyset index (created_at, id), (due_sort_key, id), (title, id),
/// also behind the owner and the assignee for a user's and a guest's lists; trigram GIN indexes (pg_trgm) for
/// <c>q</c>; the owner a foreign key to the user document (ON DELETE CASCADE). ListTaskPlansTests checks the plans on
/// 1,000,000 tasks.
/// </summary>
internal sealed class TaskItemMapping : IConfigureMarten
{
    public void Configure(IServiceProvider services, StoreOptions options)
    {
        options.Storage.ExtendedSchemaObjects.Add(new Weasel.Postgresql.Extension("pg_trgm"));
        TaskHistory.Configure(options);
        options.Schema.For<TaskItem>()
            .UseNumericRevisions(true)
            .Metadata(m => m.Revision.MapTo(t => t.Version))
            // Marten gives each duplicated column a single-column index (these four are redundant with the keyset indexes
            // below, which lead with the same columns; Marten 9.58 cannot leave them out).
            .Duplicate(t => t.CreatedAt, configure: ix => ix.Name = "ix_taskitem_created_at")
            .Duplicate(t => t.DueSortKey, configure: ix => ix.Name = "ix_taskitem_due_sort_key")
            .Duplicate(t => t.OwnerId, configure: ix => ix.Name = "ix_taskitem_owner_id")
            .Duplicate(t => t.AssigneeId, configure: ix => ix.Name = "ix_taskitem_assignee_id")
            .Duplicate(t => t.Title, configure: ix => { ix.Name = "ix_taskitem_title_trgm"; ix.Method = IndexMethod.gin; ix.Mask = "? gin_trgm_ops"; })
            .Duplicate(t => t.Description!, configure: ix => { ix.Name = "ix_taskitem_description_trgm"; ix.Method = IndexMethod.gin; ix.Mask = "? gin_trgm_ops"; })
            .Index([t => t.CreatedAt, t => t.Id], ix => ix.Name = "ix_taskitem_created_at_id")
            .Index([t => t.DueSortKey, t => t.Id], ix => ix.Name = "ix_taskitem_due_sort_id")
            .Index([t => t.Title, t => t.Id], ix => ix.Name = "ix_taskitem_title_id")
            .Index([t => t.OwnerId, t => t.CreatedAt, t => t.Id], ix => ix.Name = "ix_taskitem_owner_id_created_at_id")
            .Index([t => t.OwnerId, t => t.DueSortKey, t => t.Id], ix => ix.Name = "ix_taskitem_owner_id_due_sort_id")
            .Index([t => t.OwnerId, t => t.Title, t => t.Id], ix => ix.Name = "ix_taskitem_owner_id_title_id")
            .Index([t => t.AssigneeId!, t => t.CreatedAt, t => t.Id], ix => ix.Name = "ix_taskitem_assignee_id_created_at_id")
            .Index([t => t.AssigneeId!, t => t.DueSortKey, t => t.Id], ix => ix.Name = "ix_taskitem_assignee_id_due_sort_id")
            .Index([t => t.AssigneeId!, t => t.Title, t => t.Id], ix => ix.Name = "ix_taskitem_assignee_id_title_id")
#pragma warning disable CS0618 // Weasel 9.49's ForeignKey.OnDelete still has the type it marks obsolete
            .ForeignKey<SliceApi.Features.Users.User>(t => t.OwnerId, fk => fk.OnDelete = Weasel.Postgresql.CascadeAction.Cascade);
#pragma warning restore CS0618
    }
}

/// <summary>
/// When an account is deleted, the tasks assigned to it become unassigned in the same transaction, and the tasks it owns
/// (deleted with it through the foreign key) get their <c>deleted</c> event, so every task's history and the changes
/// feed see both.
/// </summary>
internal sealed class TaskAccountDeletion : SliceApi.Features.Users.IAccountDeletionStep
{
    public async Task BeforeDeleteAsync(IDocumentSession session, Guid userId, ClaimsPrincipal actor, CancellationToken ct)
    {
        // Locked, as every read-modify-write of a task (TaskItemAccess.LoadForChangeAsync), and written as the next
        // revision, so a task deleted or changed meanwhile is neither written back nor overwritten.
        await session.BeginTransactionAsync(ct);
        var touched = await session.QueryAsync<TaskItem>("where assignee_id = ? or owner_id = ? for update", ct, userId, userId);
        foreach (var task in touched)
        {
            if (task.OwnerId == userId)
            {
                TaskHistory.Deleted(session, actor, task);
                continue;
            }

            var before = TaskResponse.From(task);
            task.AssigneeId = null;
            session.UpdateRevision(task, task.Version + 1);
            TaskHistory.Changed(session, actor, before, task);
        }
    }
}

/// <summary>A task as the API shows it.</summary>
/// <param name="Id">The task id.</param>
/// <param name="Title">1 to 200 characters.</param>
/// <param name="Description">At most 4,000 characters, or null.</param>
/// <param name="Status"><c>todo</c>, <c>in_progress</c> or <c>done</c>.</param>
/// <param name="DueAt">Deadline (UTC), or null.</param>
/// <param name="OwnerId">The id of the user who created it.</param>
/// <param name="AssigneeId">The id of the user it is assigned to, or null.</param>
/// <param name="CreatedAt">Creation time (UTC).</param>
/// <param name="UpdatedAt">Last change (UTC).</param>
public sealed record TaskResponse(
    Guid Id, [property: System.ComponentModel.DataAnnotations.MaxLength(200)] string Title, [property: System.ComponentModel.DataAnnotations.MaxLength(4000)] string? Description, TaskItemStatus Status, DateTimeOffset? DueAt,
    Guid OwnerId, Guid? AssigneeId, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt)
{
    internal static TaskResponse From(TaskItem t) =>
        new(t.Id, t.Title, t.Description, t.Status, t.DueAt, t.OwnerId, t.AssigneeId, t.CreatedAt, t.UpdatedAt);
}

/// <summary>
/// Strong ETags of tasks (RFC 9110 section 8.8.3) from the row version, and the preconditions built on them:
/// If-None-Match for reads (304), If-Match for writes (412 when stale; section 13.1.1).
/// </summary>
internal static class TaskETag
{
    /// <summary>The ETag of a task version, e.g. <c>"1234"</c>.</summary>
    public static string Format(long version) => $"\"{version}\"";

    /// <summary>Sets ETag and a Cache-Control fit for private data that must be revalidated.</summary>
    public static void Write(HttpResponse response, long version)
    {
        response.Headers.ETag = Format(version);
        response.Headers.CacheControl = "private, no-cache";
    }

    /// <summary>Whether If-None-Match names this version (weak comparison, as section 13.1.2 asks), or is <c>*</c>.</summary>
    public static bool NoneMatchHits(HttpRequest request, long version) =>
        Microsoft.Net.Http.Headers.EntityTagHeaderValue.TryParseList(request.Headers.IfNoneMatch, out var tags)
        && tags.Any(t => t.Tag == "*" || t.Tag == Format(version));

    /// <summary>Whether the request carries If-Match.</summary>
    public static bool HasIfMatch(HttpRequest request) => request.Headers.IfMatch.Count > 0;

    /// <summary>
    /// Whether an If-Match header fails against <paramref name="version"/>: it names neither <c>*</c> nor this
    /// version with a strong tag (strong comparison, section 13.1.1). False when there is no If-Match.
    /// </summary>
    public static bool IfMatchFails(HttpRequest request, long version)
    {
        if (!HasIfMatch(request))
        {
            return false;
        }

        return !Microsoft.Net.Http.Headers.EntityTagHeaderValue.TryParseList(request.Headers.IfMatch, out var tags)
            || !tags.Any(t => t.Tag == "*" || (!t.IsWeak && t.Tag == Format(version)));
    }

    /// <summary>
    /// Saves the changes to <paramref name="task"/>, loaded by <see cref="TaskItemAccess.LoadForChangeAsync"/> (so its row is
    /// locked and its revision current), as the next revision, commits, and sets the new ETag.
    /// </summary>
    public static async Task SaveAsync(IDocumentSession session, TaskItem task, HttpContext http, CancellationToken ct)
    {
        var next = task.Version + 1;
        session.UpdateRevision(task, next);
        await session.SaveChangesAsync(ct);
        task.Version = next; // as Marten's save sets the mapped revision itself
        Write(http.Response, next);
    }

    /// <summary>The 412 problem for a stale If-Match.</summary>
    public static Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult PreconditionFailed(long current) => TypedResults.Problem(
        statusCode: StatusCodes.Status412PreconditionFailed, title: "The task has changed.",
        detail: $"If-Match does not name the current version ({Format(current)}). GET the task again and retry with its ETag.");
}

/// <summary>Who may see and change which task; every task slice goes through this so the rules live once.</summary>
/// <remarks>
/// An admin sees and changes every task. A user sees the tasks they own or are assigned, changes those they
/// own, and only the status of those assigned to them. A guest sees only the tasks assigned to them and changes
/// nothing. A task someone may not see is a 404 to them, so ids reveal nothing.
/// </remarks>
internal static class TaskItemAccess
{
    /// <summary>Whether <paramref name="caller"/> may see <paramref name="task"/>.</summary>
    public static bool MaySee(this ClaimsPrincipal caller, TaskItem task)
    {
        var userId = caller.GetUserId();
        return caller.IsAdmin() || task.AssigneeId == userId || (task.OwnerId == userId && !caller.IsInRole(AppRoles.Guest));
    }

    /// <summary>The task with <paramref name="id"/> if it exists and <paramref name="caller"/> may see it, else null.</summary>
    public static async Task<TaskItem?> LoadVisibleAsync(this IQuerySession session, Guid id, ClaimsPrincipal caller, CancellationToken ct) =>
        await session.LoadAsync<TaskItem>(id, ct) is { } task && caller.MaySee(task) ? task : null;

    /// <summary>
    /// Loads a task to change or delete it, locked (<see cref="LockedReads.LoadForUpdateAsync{T}"/>): concurrent writes of
    /// the same task queue behind this one, so a write always starts from the latest revision, a task deleted meanwhile
    /// is a 404 (never written back), and the If-Match check (RFC 9110 section 13.1.1) holds until the save.
    /// </summary>
    /// <param name="session">The request's document session; its next <c>SaveChangesAsync</c> commits.</param>
    /// <param name="id">The task id.</param>
    /// <param name="http">The request: its caller and its If-Match.</param>
    /// <param name="ownerOnly">True when only the owner or an admin may make the change (an assignee gets 403).</param>
    /// <param name="ct">Cancels the read.</param>
    /// <returns>The locked task, or the problem to answer: 404 (missing or not visible), 403, 412 (stale If-Match).</returns>
    public static async Task<(TaskItem? Task, Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult? Problem)> LoadForChangeAsync(
        this IDocumentSession session, Guid id, HttpContext http, bool ownerOnly, CancellationToken ct)
    {
        var task = await session.LoadForUpdateAsync<TaskItem>(id, ct);
        if (task is null || !http.User.MaySee(task))
        {
            return (null, NotFound(id));
        }

        if (ownerOnly && !http.User.MayEdit(task))
        {
            return (null, OwnerOnly());
        }

        return TaskETag.IfMatchFails(http.Request, task.Version) ? (null, TaskETag.PreconditionFailed(task.Version)) : (task, null);
    }

    /// <summary>Which tasks a list starts from, by the caller's role.</summary>
    public enum ListAudience
    {
        /// <summary>An admin: every task.</summary>
        All,

        /// <summary>A guest: the tasks assigned to them.</summary>
        Assigned,

        /// <summary>A user: the tasks they own or are assigned.</summary>
        OwnedOrAssigned,
    }

    /// <summary>The list audience of <paramref name="caller"/>.</summary>
    public static ListAudience ListAudienceOf(ClaimsPrincipal caller) =>
        caller.IsAdmin() ? ListAudience.All : caller.IsInRole(AppRoles.Guest) ? ListAudience.Assigned : ListAudience.OwnedOrAssigned;

    /// <summary>
    /// The conventions of the slices that change one existing task: roles admin and user (a guest gets 403), API keys
    /// with <c>tasks:write</c>, the 404 (not visible) and 412 (stale If-Match) problems, and the 409 the exception handler
    /// gives a revision conflict (none is expected: writes of a task take turns on its row lock).
    /// </summary>
    public static void ChangesOneTask(this FastEndpoints.EndpointDefinition endpoint)
    {
        endpoint.Roles(AppRoles.Admin, AppRoles.User);
        endpoint.CallableWithScope(ApiScopes.TasksWrite);
        endpoint.Description(b => b.ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status412PreconditionFailed));
    }

    /// <summary>Whether <paramref name="caller"/> may change every field of <paramref name="task"/> (owner or admin).</summary>
    public static bool MayEdit(this ClaimsPrincipal caller, TaskItem task) =>
        caller.IsAdmin() || (task.OwnerId == caller.GetUserId() && !caller.IsInRole(AppRoles.Guest));

    /// <summary>The 404 problem for a task that does not exist or is not visible to the caller.</summary>
    public static Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult NotFound(Guid id) => TypedResults.Problem(
        statusCode: StatusCodes.Status404NotFound, title: "Task not found.", detail: $"No task {id} is visible to you.");

    /// <summary>The 403 problem for an assignee who tried to change more than the status.</summary>
    public static Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult OwnerOnly() => TypedResults.Problem(
        statusCode: StatusCodes.Status403Forbidden, title: "Only the owner or an admin can do this.",
        detail: "As the assignee you may read the task and change its status with PUT /api/v1/tasks/{id}/status.");

    /// <summary>A 400 problem when <paramref name="assigneeId"/> names no account, else null.</summary>
    public static async Task<Microsoft.AspNetCore.Http.HttpResults.ValidationProblem?> CheckAssigneeAsync(
        IDocumentStore store, Guid? assigneeId, CancellationToken ct)
    {
        if (assigneeId is not { } id)
        {
            return null;
        }

        // A session only when there is an assignee to look up: most writes name none.
        await using (var session = store.QuerySession())
        {
            if (await session.LoadAsync<SliceApi.Features.Users.User>(id, ct) is not null)
            {
                return null;
            }
        }

        return TypedResults.ValidationProblem(
            new Dictionary<string, string[]> { ["assigneeId"] = ["'assigneeId' must be the id of an existing user."] },
            title: "The request is invalid.");
    }
}
