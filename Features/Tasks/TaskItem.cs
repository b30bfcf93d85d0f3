using System.Linq.Expressions;
using System.Security.Claims;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using SliceApi.Infrastructure.Data;
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

/// <summary>A task (table <c>tasks</c>). Named TaskItem so it never collides with System.Threading.Tasks.Task.</summary>
internal sealed class TaskItem
{
    public Guid Id { get; init; }

    /// <summary>The user who created it; refers to <c>users.id</c> by value.</summary>
    public Guid OwnerId { get; init; }

    /// <summary>The user the task is assigned to, if any; refers to <c>users.id</c> by value.</summary>
    public Guid? AssigneeId { get; set; }

    public required string Title { get; set; }

    public string? Description { get; set; }

    public TaskItemStatus Status { get; set; }

    /// <summary>Deadline, UTC.</summary>
    public DateTimeOffset? DueAt { get; set; }

    /// <summary>UTC, microsecond precision (PostgreSQL's), so list cursors round-trip exactly.</summary>
    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>UTC.</summary>
    public DateTimeOffset UpdatedAt { get; set; }

    /// <summary>
    /// PostgreSQL's row version (the <c>xmin</c> system column): changes with every write, checked by EF on
    /// update (optimistic concurrency) and sent as the strong ETag.
    /// </summary>
    public uint Version { get; set; }

    /// <summary>Every status's wire name, in declaration order.</summary>
    public static readonly string[] Names = ["todo", "in_progress", "done"];

    /// <summary>The wire and database name of a status.</summary>
    public static string ToName(TaskItemStatus status) => status switch
    {
        TaskItemStatus.Todo => "todo",
        TaskItemStatus.InProgress => "in_progress",
        TaskItemStatus.Done => "done",
        _ => throw new ArgumentOutOfRangeException(nameof(status), status, null),
    };

    /// <summary>Parses a wire name; null when it is not one.</summary>
    public static TaskItemStatus? ParseName(string? name) => name switch
    {
        "todo" => TaskItemStatus.Todo,
        "in_progress" => TaskItemStatus.InProgress,
        "done" => TaskItemStatus.Done,
        _ => null,
    };
}

/// <summary>Maps <see cref="TaskItem"/> onto the table <c>tasks</c> created by migration 0001.</summary>
internal sealed class TaskItemConfiguration : IEntityTypeConfiguration<TaskItem>
{
    public void Configure(EntityTypeBuilder<TaskItem> builder)
    {
        builder.ToTable("tasks");
        builder.HasKey(t => t.Id);
        builder.Property(t => t.Id).HasColumnName("id").ValueGeneratedNever();
        builder.Property(t => t.OwnerId).HasColumnName("owner_id");
        builder.Property(t => t.AssigneeId).HasColumnName("assignee_id");
        builder.HasIndex(t => new { t.AssigneeId, t.CreatedAt, t.Id }).IsDescending(false, true, true).HasDatabaseName("ix_tasks_assignee_id_created_at_id");
        builder.Property(t => t.Title).HasColumnName("title").HasMaxLength(200);
        builder.Property(t => t.Description).HasColumnName("description").HasMaxLength(4000);
        builder.Property(t => t.Status).HasColumnName("status").HasMaxLength(16)
            .HasConversion(s => TaskItem.ToName(s), s => TaskItem.ParseName(s) ?? TaskItemStatus.Todo);
        builder.Property(t => t.DueAt).HasColumnName("due_at");
        builder.Property(t => t.CreatedAt).HasColumnName("created_at");
        builder.Property(t => t.UpdatedAt).HasColumnName("updated_at");
        builder.Property(t => t.Version).IsRowVersion(); // maps to xmin
        builder.HasIndex(t => new { t.OwnerId, t.CreatedAt, t.Id }).IsDescending(false, true, true).HasDatabaseName("ix_tasks_owner_id_created_at_id");
        builder.HasIndex(t => new { t.CreatedAt, t.Id }).IsDescending(true, true).HasDatabaseName("ix_tasks_created_at_id");
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
    Guid Id, string Title, string? Description, TaskItemStatus Status, DateTimeOffset? DueAt,
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
    public static string Format(uint version) => $"\"{version}\"";

    /// <summary>Sets ETag and a Cache-Control fit for private data that must be revalidated.</summary>
    public static void Write(HttpResponse response, uint version)
    {
        response.Headers.ETag = Format(version);
        response.Headers.CacheControl = "private, no-cache";
    }

    /// <summary>Whether If-None-Match names this version (weak comparison, as section 13.1.2 asks), or is <c>*</c>.</summary>
    public static bool NoneMatchHits(HttpRequest request, uint version) =>
        Microsoft.Net.Http.Headers.EntityTagHeaderValue.TryParseList(request.Headers.IfNoneMatch, out var tags)
        && tags.Any(t => t.Tag == "*" || t.Tag == Format(version));

    /// <summary>Whether the request carries If-Match.</summary>
    public static bool HasIfMatch(HttpRequest request) => request.Headers.IfMatch.Count > 0;

    /// <summary>
    /// Whether an If-Match header fails against <paramref name="version"/>: it names neither <c>*</c> nor this
    /// version with a strong tag (strong comparison, section 13.1.1). False when there is no If-Match.
    /// </summary>
    public static bool IfMatchFails(HttpRequest request, uint version)
    {
        if (!HasIfMatch(request))
        {
            return false;
        }

        return !Microsoft.Net.Http.Headers.EntityTagHeaderValue.TryParseList(request.Headers.IfMatch, out var tags)
            || !tags.Any(t => t.Tag == "*" || (!t.IsWeak && t.Tag == Format(version)));
    }

    /// <summary>
    /// Saves a changed task under optimistic concurrency (EF's UPDATE matches only the version read) and sets the new
    /// ETag. A write that lost a race is 412 when the client sent If-Match; without it the exception handler's 409 applies.
    /// </summary>
    /// <returns>Null when saved, else the 412 problem.</returns>
    public static async Task<Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult?> SaveAsync(
        SliceApi.Infrastructure.Data.AppDbContext db, TaskItem task, HttpContext http, CancellationToken ct)
    {
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateConcurrencyException) when (HasIfMatch(http.Request))
        {
            return PreconditionFailed(task.Version);
        }

        Write(http.Response, task.Version);
        return null;
    }

    /// <summary>The 412 problem for a stale If-Match.</summary>
    public static Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult PreconditionFailed(uint current) => TypedResults.Problem(
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
    /// <summary>The tasks <paramref name="caller"/> may see.</summary>
    public static IQueryable<TaskItem> VisibleTo(this IQueryable<TaskItem> tasks, ClaimsPrincipal caller)
    {
        if (caller.IsAdmin())
        {
            return tasks;
        }

        var userId = caller.GetUserId();
        return caller.IsInRole(AppRoles.Guest)
            ? tasks.Where(t => t.AssigneeId == userId)
            : tasks.Where(t => t.OwnerId == userId || t.AssigneeId == userId);
    }

    /// <summary>Which tasks a list starts from, by the caller's role (see <see cref="ListSource"/>).</summary>
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
    /// The same tasks as <see cref="VisibleTo"/> for the caller with id <c>me</c>, as an expression that list queries
    /// compile. A user's are the UNION ALL of the tasks they own and those assigned to them that they do not own, so
    /// PostgreSQL reads each half from an owner or assignee index and the cost follows the user's own tasks; an OR
    /// would leave the planner to guess between that and filtering the whole table in list order.
    /// </summary>
    public static Expression<Func<AppDbContext, Guid, IQueryable<TaskItem>>> ListSource(ListAudience audience) => audience switch
    {
        ListAudience.All => (db, me) => db.Set<TaskItem>(),
        ListAudience.Assigned => (db, me) => db.Set<TaskItem>().Where(t => t.AssigneeId == me),
        _ => (db, me) => db.Set<TaskItem>().Where(t => t.OwnerId == me)
            .Concat(db.Set<TaskItem>().Where(t => t.AssigneeId == me && t.OwnerId != me)),
    };

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
        Marten.IDocumentStore store, Guid? assigneeId, CancellationToken ct)
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
