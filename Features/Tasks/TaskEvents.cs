using System.Diagnostics;
using System.Globalization;
using System.Security.Claims;
using JasperFx.Events;
using Marten;
using SliceApi.Infrastructure.Security;

namespace SliceApi.Features.Tasks;

/// <summary>What happened to a task; on the wire in snake_case (<c>status_changed</c>), in webhooks as <c>task.status_changed</c>.</summary>
public enum TaskEventType
{
    /// <summary><c>created</c>: the task was created (or, for tasks older than the history, its stored state when the history began).</summary>
    Created,

    /// <summary><c>updated</c>: the title, description or deadline changed; <c>changes</c> names each.</summary>
    Updated,

    /// <summary><c>status_changed</c>: the status changed.</summary>
    StatusChanged,

    /// <summary><c>assigned</c>: the task was assigned to a user (or reassigned from another).</summary>
    Assigned,

    /// <summary><c>unassigned</c>: the task's assignee was removed (by its owner, or because the assignee's account was deleted).</summary>
    Unassigned,

    /// <summary><c>deleted</c>: the task was deleted (by its owner or an admin, or with its owner's account).</summary>
    Deleted,
}

/// <summary>One member of a task whose value an event changed; values are as the API writes them (status <c>in_progress</c>, dates RFC 3339 UTC).</summary>
/// <param name="Field">The member: <c>title</c>, <c>description</c>, <c>dueAt</c>, <c>status</c> or <c>assigneeId</c>.</param>
/// <param name="OldValue">The value before, or null when it had none.</param>
/// <param name="NewValue">The value after, or null when it was cleared.</param>
public sealed record TaskFieldChangeResponse(
    [property: System.ComponentModel.DataAnnotations.MaxLength(16)] string Field,
    [property: System.ComponentModel.DataAnnotations.MaxLength(4000)] string? OldValue,
    [property: System.ComponentModel.DataAnnotations.MaxLength(4000)] string? NewValue);

/// <summary>
/// An event of a task's stream in Marten's event store (<c>mt_events</c>, stream id = task id), appended in the
/// transaction that writes the task, so the history never disagrees with it. Who and through what are Marten's event
/// metadata (user name, headers, correlation id), set by <see cref="TaskHistory"/>.
/// </summary>
internal abstract record TaskEvent
{
    /// <summary>The task after the change (for <see cref="TaskDeleted"/>, as it was when deleted).</summary>
    public required TaskResponse Task { get; init; }

    /// <summary>The members the event changed, old and new values; empty for created and deleted.</summary>
    public IReadOnlyList<TaskFieldChangeResponse> Changes { get; init; } = [];

    /// <summary>The event's type on the wire.</summary>
    public abstract TaskEventType Type { get; }
}

/// <summary>Event <c>task_created</c>.</summary>
internal sealed record TaskCreated : TaskEvent
{
    public override TaskEventType Type => TaskEventType.Created;
}

/// <summary>Event <c>task_updated</c>: title, description or deadline.</summary>
internal sealed record TaskUpdated : TaskEvent
{
    public override TaskEventType Type => TaskEventType.Updated;
}

/// <summary>Event <c>task_status_changed</c>.</summary>
internal sealed record TaskStatusChanged : TaskEvent
{
    public override TaskEventType Type => TaskEventType.StatusChanged;
}

/// <summary>Event <c>task_assigned</c>.</summary>
internal sealed record TaskAssigned : TaskEvent
{
    public override TaskEventType Type => TaskEventType.Assigned;
}

/// <summary>Event <c>task_unassigned</c>; <see cref="TaskEvent.Changes"/> names the former assignee.</summary>
internal sealed record TaskUnassigned : TaskEvent
{
    public override TaskEventType Type => TaskEventType.Unassigned;
}

/// <summary>Event <c>task_deleted</c>.</summary>
internal sealed record TaskDeleted : TaskEvent
{
    public override TaskEventType Type => TaskEventType.Deleted;
}

/// <summary>How the actor of an event was authenticated; on the wire in snake_case.</summary>
public enum TaskEventChannel
{
    /// <summary><c>access_token</c>: the user's own access token (log-in).</summary>
    AccessToken,

    /// <summary><c>api_key</c>: one of the user's API keys (<c>apiKeyId</c> names it).</summary>
    ApiKey,

    /// <summary><c>oauth_app</c>: an OAuth app acting for the user (<c>clientId</c> names it).</summary>
    OAuthApp,

    /// <summary><c>system</c>: the API itself (the history's start for older tasks, an account deletion's cascade run outside a request).</summary>
    System,
}

/// <summary>
/// Appends the events of task changes to the task's stream in the caller's session (committed by its next
/// <c>SaveChangesAsync</c>, with the task), stamped with who made the change (Marten's user name: the user id), through
/// what (headers <c>via</c>, <c>apiKeyId</c>, <c>clientId</c>) and the request's W3C trace id (the correlation id).
/// </summary>
internal static class TaskHistory
{
    /// <summary>Header of the event metadata: a <see cref="TaskEventChannel"/> name.</summary>
    public const string ViaHeader = "via";

    /// <summary>Header of the event metadata: the API key's id.</summary>
    public const string ApiKeyHeader = "apiKeyId";

    /// <summary>Header of the event metadata: the OAuth app's client id.</summary>
    public const string ClientHeader = "clientId";

    /// <summary>Maps the event types to stable names in <c>mt_events.type</c> and turns on the metadata columns used here.</summary>
    public static void Configure(StoreOptions options)
    {
        // Sequence numbers and versions assigned inside PostgreSQL in the insert itself (one round trip), and the
        // timestamp the server's: Marten's default "rich" mode reserves sequence numbers with a query of its own first.
        options.Events.AppendMode = JasperFx.Events.EventAppendMode.QuickWithServerTimestamps;
        options.Events.MetadataConfig.UserNameEnabled = true;
        options.Events.MetadataConfig.CorrelationIdEnabled = true;
        options.Events.MetadataConfig.HeadersEnabled = true;
        options.Events.MapEventType<TaskCreated>("task_created");
        options.Events.MapEventType<TaskUpdated>("task_updated");
        options.Events.MapEventType<TaskStatusChanged>("task_status_changed");
        options.Events.MapEventType<TaskAssigned>("task_assigned");
        options.Events.MapEventType<TaskUnassigned>("task_unassigned");
        options.Events.MapEventType<TaskDeleted>("task_deleted");
    }

    /// <summary>Starts the stream of a new task with its <c>created</c> event.</summary>
    public static void Created(IDocumentSession session, ClaimsPrincipal? actor, TaskItem task)
    {
        Stamp(session, actor);
        session.Events.StartStream<TaskItem>(task.Id, new TaskCreated { Task = TaskResponse.From(task) });
    }

    /// <summary>
    /// Appends what changed between <paramref name="before"/> and <paramref name="task"/>: <c>updated</c> (title,
    /// description, deadline), <c>status_changed</c>, <c>assigned</c> or <c>unassigned</c>, each only when it applies;
    /// nothing when nothing changed.
    /// </summary>
    public static void Changed(IDocumentSession session, ClaimsPrincipal? actor, TaskResponse before, TaskItem task)
    {
        var after = TaskResponse.From(task);
        List<TaskEvent> events = [];
        List<TaskFieldChangeResponse> updated = [];
        Compare(updated, "title", before.Title, after.Title);
        Compare(updated, "description", before.Description, after.Description);
        Compare(updated, "dueAt", Text(before.DueAt), Text(after.DueAt));
        if (updated.Count > 0)
        {
            events.Add(new TaskUpdated { Task = after, Changes = updated });
        }

        if (before.Status != after.Status)
        {
            events.Add(new TaskStatusChanged { Task = after, Changes = [new("status", Text(before.Status), Text(after.Status))] });
        }

        if (before.AssigneeId != after.AssigneeId)
        {
            TaskFieldChangeResponse change = new("assigneeId", before.AssigneeId?.ToString(), after.AssigneeId?.ToString());
            events.Add(after.AssigneeId is null ? new TaskUnassigned { Task = after, Changes = [change] } : new TaskAssigned { Task = after, Changes = [change] });
        }

        if (events.Count > 0)
        {
            Stamp(session, actor);
            session.Events.Append(task.Id, events);
        }
    }

    /// <summary>Appends the <c>deleted</c> event of a task about to be deleted.</summary>
    public static void Deleted(IDocumentSession session, ClaimsPrincipal? actor, TaskItem task)
    {
        Stamp(session, actor);
        session.Events.Append(task.Id, new TaskDeleted { Task = TaskResponse.From(task) });
    }

    /// <summary>Status as the API writes it: <c>in_progress</c>.</summary>
    public static string Text(TaskItemStatus status) => TaskItem.Names[(int)status];

    /// <summary>A date-time as the API writes it: RFC 3339 in UTC with <c>Z</c>.</summary>
    public static string? Text(DateTimeOffset? value) =>
        value?.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture);

    /// <summary>Who made the change, as Marten's metadata records it; a principal of none (no request) is <c>system</c>.</summary>
    private static void Stamp(IDocumentSession session, ClaimsPrincipal? actor)
    {
        if (session.LastModifiedBy is not null)
        {
            return; // stamped already by an earlier change in this session
        }

        session.CorrelationId = Activity.Current is { } activity ? activity.TraceId.ToHexString() : null;
        if (actor?.Identity?.IsAuthenticated != true)
        {
            session.LastModifiedBy = "";
            session.SetHeader(ViaHeader, nameof(TaskEventChannel.System));
            return;
        }

        session.LastModifiedBy = actor.GetUserId().ToString();
        if (actor.FindFirstValue(ApiKeyScheme.KeyIdClaim) is { } keyId)
        {
            session.SetHeader(ViaHeader, nameof(TaskEventChannel.ApiKey));
            session.SetHeader(ApiKeyHeader, keyId);
        }
        else if (actor.Identity.AuthenticationType == AppTokenScheme.Name)
        {
            session.SetHeader(ViaHeader, nameof(TaskEventChannel.OAuthApp));
            session.SetHeader(ClientHeader, actor.FindFirstValue("client_id") ?? "");
        }
        else
        {
            session.SetHeader(ViaHeader, nameof(TaskEventChannel.AccessToken));
        }
    }

    private static void Compare(List<TaskFieldChangeResponse> changes, string field, string? before, string? after)
    {
        if (!string.Equals(before, after, StringComparison.Ordinal))
        {
            changes.Add(new TaskFieldChangeResponse(field, before, after));
        }
    }
}

/// <summary>
/// One entry of a task's history (an event of its stream), as <c>GET /api/v1/tasks/{id}/history</c> and the changes feed
/// write it.
/// </summary>
/// <param name="Id">The event's id (unique across the store).</param>
/// <param name="TaskId">The task's id.</param>
/// <param name="Version">The event's position in the task's history, from 1.</param>
/// <param name="Type">What happened.</param>
/// <param name="OccurredAt">When the change was made: the start of its transaction (UTC, microseconds).</param>
/// <param name="Actor">Who made the change and through what.</param>
/// <param name="TraceId">The W3C trace id of the request that made the change (32 hex digits), or null.</param>
/// <param name="Changes">The changed members with old and new values; empty for created and deleted.</param>
/// <param name="Task">The task after the change (for deleted, as it was).</param>
public sealed record TaskEventResponse(
    Guid Id, Guid TaskId, [property: System.ComponentModel.DataAnnotations.Range(1, long.MaxValue)] long Version, TaskEventType Type, DateTimeOffset OccurredAt, TaskEventActorResponse Actor,
    [property: System.ComponentModel.DataAnnotations.MaxLength(32)] string? TraceId,
    [property: System.ComponentModel.DataAnnotations.MaxLength(5)] IReadOnlyList<TaskFieldChangeResponse> Changes, TaskResponse Task)
{
    internal static TaskEventResponse From(IEvent e)
    {
        var data = (TaskEvent)e.Data;
        return new TaskEventResponse(e.Id, e.StreamId, e.Version, data.Type, e.Timestamp, TaskEventActorResponse.From(e),
            string.IsNullOrEmpty(e.CorrelationId) ? null : e.CorrelationId, data.Changes, data.Task);
    }
}

/// <summary>Who made a change and through what.</summary>
/// <param name="UserId">The user's id; null for <c>system</c>.</param>
/// <param name="Via">How they were authenticated.</param>
/// <param name="ApiKeyId">The API key's id when <c>via</c> is <c>api_key</c>, else null.</param>
/// <param name="ClientId">The OAuth app's client id when <c>via</c> is <c>oauth_app</c>, else null.</param>
public sealed record TaskEventActorResponse(
    Guid? UserId, TaskEventChannel Via, Guid? ApiKeyId, [property: System.ComponentModel.DataAnnotations.MaxLength(100)] string? ClientId)
{
    internal static TaskEventActorResponse From(IEvent e)
    {
        var via = Enum.TryParse<TaskEventChannel>(e.GetHeader(TaskHistory.ViaHeader)?.ToString(), out var channel) ? channel : TaskEventChannel.System;
        return new TaskEventActorResponse(
            Guid.TryParse(e.UserName, out var user) ? user : null, via,
            Guid.TryParse(e.GetHeader(TaskHistory.ApiKeyHeader)?.ToString(), out var key) ? key : null,
            e.GetHeader(TaskHistory.ClientHeader)?.ToString());
    }
}
