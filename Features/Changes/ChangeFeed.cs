using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Security.Claims;
using JasperFx.Events;
using JasperFx.Events.Daemon;
using JasperFx.Events.Projections;
using Marten;
using Marten.Linq.MatchesSql;
using Marten.Subscriptions;
using SliceApi.Features.Tasks;
using SliceApi.Infrastructure.Data;
using SliceApi.Infrastructure.Security;

namespace SliceApi.Features.Changes;

/// <summary>Registers the changes feed's settings, the stream's wake-up signal and the retention pass.</summary>
internal static class ChangesSetup
{
    /// <summary>Binds and validates <see cref="ChangesOptions"/>; adds <see cref="ChangeSignal"/> and <see cref="ChangeRetention"/>.</summary>
    public static IServiceCollection AddChanges(this IServiceCollection services)
    {
        services.AddOptions<ChangesOptions>().BindConfiguration(ChangesOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<ChangeSignal>();
        services.AddSingleton<SliceApi.Infrastructure.Security.INotificationSubscriber>(provider => provider.GetRequiredService<ChangeSignal>());
        services.AddSingleton<ChangeRetention>();
        services.AddSingleton<ChangeFeedLag>();
        services.AddHostedService(provider => provider.GetRequiredService<ChangeFeedLag>());
        services.AddHostedService(provider => provider.GetRequiredService<ChangeRetention>());
        return services;
    }
}

/// <summary>Settings of the changes feed (section <c>Changes</c>).</summary>
public sealed class ChangesOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Changes";

    /// <summary>How long task events are kept, in days (the feed's retention; history older than that is pruned too). Default 30.</summary>
    [Range(1, 3650)]
    public int RetentionDays { get; set; } = 30;

    /// <summary>Seconds between the comment lines that keep an idle event stream open through proxies. Default 15.</summary>
    [Range(1, 300)]
    public int HeartbeatSeconds { get; set; } = 15;
}

/// <summary>One change in the feed: an event of a task the caller may see, or the notice that a task left their view.</summary>
/// <param name="Cursor">The feed position just after this change; pass it as <c>after</c> (or <c>Last-Event-ID</c>) to resume here.</param>
/// <param name="TaskId">The task's id.</param>
/// <param name="Type">What happened to the task.</param>
/// <param name="Removed">
/// True when the task left the caller's view with this change (deleted, or reassigned away from them): drop it. Then
/// <c>event</c> is null, so nothing of a task the caller may no longer see is shown.
/// </param>
/// <param name="OccurredAt">When the change was made (UTC, microseconds).</param>
/// <param name="Event">The event with the task's state after it, as the task's history shows it; null when removed.</param>
public sealed record ChangeResponse(
    [property: MaxLength(20)] string Cursor, Guid TaskId, TaskEventType Type, bool Removed, DateTimeOffset OccurredAt, TaskEventResponse? Event);

/// <summary>One page of the changes feed, in commit order.</summary>
/// <param name="Items">At most <c>limit</c> changes.</param>
/// <param name="NextCursor">Where to continue: pass as <c>after</c>. Always set, also when no change came (it may still move past changes the caller may not see).</param>
/// <param name="HasMore">True when more changes are ready now; false when the caller is up to date.</param>
public sealed record ListChangesResponse([property: MaxLength(ListChanges.MaxLimit)] IReadOnlyList<ChangeResponse> Items, [property: MaxLength(20)] string NextCursor, bool HasMore);

/// <summary>Why a cursor cannot be read from.</summary>
internal enum CursorState
{
    /// <summary>The feed continues from it.</summary>
    Valid,

    /// <summary>It is older than the retention: events after it were pruned (410).</summary>
    Expired,

    /// <summary>It points past every committed event, so this API never issued it (400).</summary>
    Unknown,
}

/// <summary>
/// Reads the task events a caller may see in commit order, from Marten's event store, only up to the async daemon's
/// high-water mark: Marten's sequence has gaps and late commits (a transaction that took sequence 101 may commit after
/// 102), and the high-water mark is the highest sequence below which every event has committed or is proven never to
/// commit, so a reader that keeps its cursor sees each event once and skips none.
/// </summary>
internal static class ChangeFeed
{
    /// <summary>The document id of the retention mark.</summary>
    public const string RetentionId = "tasks";

    /// <summary>The feed position below which every event is final (Marten's <c>HighWaterMark</c> progression row); 0 before the daemon's first pass.</summary>
    public static async Task<long> HighWaterMarkAsync(IQuerySession session, CancellationToken ct) =>
        (await session.QueryAsync<long>($"select coalesce(max(last_seq_id), 0) from mt_event_progression where name = '{ShardState.HighWaterMark}'", ct)).Single();

    /// <summary>The position the feed starts from: everything at or below it was pruned.</summary>
    public static async Task<long> PrunedThroughAsync(IQuerySession session, CancellationToken ct) =>
        (await session.LoadAsync<ChangeRetentionMark>(RetentionId, ct))?.PrunedThrough ?? 0;

    /// <summary>Parses a cursor: a decimal feed position, 0 or more, at most 19 digits; false otherwise.</summary>
    public static bool TryParse(string? cursor, out long position)
    {
        position = 0;
        return cursor is { Length: > 0 and <= 19 } && cursor.All(char.IsAsciiDigit)
            && long.TryParse(cursor, NumberStyles.None, CultureInfo.InvariantCulture, out position);
    }

    /// <summary>A feed position as a cursor.</summary>
    public static string Format(long position) => position.ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// Whether the feed can continue from <paramref name="after"/> (null: from the start of the retention), and the
    /// high-water mark read to decide it (a page read right after may use it as its ceiling).
    /// </summary>
    public static async Task<(CursorState State, long After, long Ceiling)> CheckAsync(IQuerySession session, long? after, CancellationToken ct)
    {
        var pruned = await PrunedThroughAsync(session, ct);
        var ceiling = await HighWaterMarkAsync(session, ct);
        if (after is not { } position)
        {
            return (CursorState.Valid, pruned, ceiling);
        }

        var state = position < pruned ? CursorState.Expired : position > ceiling ? CursorState.Unknown : CursorState.Valid;
        return (state, position, ceiling);
    }

    /// <summary>
    /// The next changes after <paramref name="after"/> that <paramref name="caller"/> may see, at most
    /// <paramref name="limit"/>: an admin sees every task's events; a user those of the tasks they own or are assigned; a
    /// guest those of the tasks assigned to them; anyone who saw a task before a change that takes it from their view
    /// (deletion, reassignment) gets that change as <c>removed</c>. Reads below <paramref name="highWaterMark"/> when given
    /// (just read by <see cref="CheckAsync"/>), else below the mark read now.
    /// </summary>
    public static async Task<ListChangesResponse> ReadAsync(IQuerySession session, ClaimsPrincipal caller, long after, int limit, CancellationToken ct,
        long? highWaterMark = null)
    {
        var ceiling = highWaterMark ?? await HighWaterMarkAsync(session, ct);
        if (ceiling <= after)
        {
            return new ListChangesResponse([], Format(after), false);
        }

        var events = session.Events.QueryAllRawEvents().Where(e => e.Sequence > after && e.Sequence <= ceiling);
        if (!caller.IsAdmin())
        {
            var id = caller.GetUserId().ToString();
            var guest = caller.IsInRole(AppRoles.Guest);
            // The task after the event is theirs or assigned to them, or it was assigned to them before (a reassignment).
            events = guest
                ? events.Where(e => e.MatchesSql(
                    "(data -> 'task' ->> 'assigneeId' = ? or (type in ('task_assigned', 'task_unassigned') and data -> 'changes' -> 0 ->> 'oldValue' = ?))", id, id))
                : events.Where(e => e.MatchesSql(
                    "(data -> 'task' ->> 'ownerId' = ? or data -> 'task' ->> 'assigneeId' = ? or (type in ('task_assigned', 'task_unassigned') and data -> 'changes' -> 0 ->> 'oldValue' = ?))", id, id, id));
        }

        var page = (await events.OrderBy(e => e.Sequence).Take(limit + 1).ToListAsync(ct)).ToList();
        var hasMore = page.Count > limit;
        if (hasMore)
        {
            page.RemoveAt(limit);
        }

        var items = page.Select(e => ToChange(e, caller)).OfType<ChangeResponse>().ToList();
        // Up to date: every event up to the high-water mark has been looked at, seen or not.
        return new ListChangesResponse(items, hasMore ? Format(page[^1].Sequence) : Format(ceiling), hasMore);
    }

    /// <summary>
    /// <paramref name="e"/> as <paramref name="caller"/> may see it: the change with the task after it when they may see
    /// the task after the event; <c>removed</c> when they saw it before and not after (deleted, reassigned away); null
    /// when neither (the change is none of theirs).
    /// </summary>
    public static ChangeResponse? ToChange(IEvent e, ClaimsPrincipal caller)
    {
        var data = (TaskEvent)e.Data;
        var task = data.Task;
        var admin = caller.IsAdmin();
        var guest = caller.IsInRole(AppRoles.Guest);
        var user = caller.GetUserId();
        bool Sees(Guid? assignee) => admin || assignee == user || (!guest && task.OwnerId == user);
        var seesAfter = data is not TaskDeleted && Sees(task.AssigneeId);
        var sawBefore = data switch
        {
            TaskCreated => false,
            TaskDeleted => Sees(task.AssigneeId),
            TaskAssigned or TaskUnassigned => Sees(Guid.TryParse(data.Changes[0].OldValue, out var old) ? old : null),
            _ => seesAfter,
        };
        return seesAfter || sawBefore
            ? new ChangeResponse(Format(e.Sequence), e.StreamId, data.Type, !seesAfter, e.Timestamp, seesAfter ? TaskEventResponse.From(e) : null)
            : null;
    }
}

/// <summary>How far task events have been pruned (document <c>mt_doc_changeretentionmark</c>, one row).</summary>
internal sealed class ChangeRetentionMark
{
    /// <summary><see cref="ChangeFeed.RetentionId"/>.</summary>
    public required string Id { get; init; }

    /// <summary>The feed position through which events were deleted; a cursor below it is expired.</summary>
    public long PrunedThrough { get; set; }
}

/// <summary>
/// The event store settings of the changes feed: the <see cref="ChangeNotifier"/> subscription and the retention mark's
/// document. Marten's option to NOTIFY the daemon of every append stays off: PostgreSQL serializes the commits of
/// transactions that NOTIFY (a global lock on its notification queue), which cut creates to a third under load
/// (bench/run.sh); the daemon polls for new events instead, every 250 ms at most.
/// </summary>
internal sealed class ChangeFeedMapping : IConfigureMarten
{
    public void Configure(IServiceProvider services, StoreOptions options)
    {
        // The daemon looks for new events every 250 ms even when idle (Marten's default then is 1 s), so a change reaches
        // the streams within a second: one max(seq_id) lookup on the electing instance per poll.
        options.Projections.SlowPollingTime = TimeSpan.FromMilliseconds(250);
        options.Projections.FastPollingTime = TimeSpan.FromMilliseconds(100);
        options.Projections.Subscribe(new ChangeNotifier(services));
        options.Schema.For<ChangeRetentionMark>();
    }
}

/// <summary>
/// Work done for the task events of each page the <see cref="ChangeNotifier"/> subscription processes, in commit order,
/// in the transaction that records its progress (so it is done once per event); e.g. the webhook fan-out.
/// </summary>
internal interface ITaskEventConsumer
{
    /// <summary>Handles <paramref name="events"/> (task events, in commit order), writing through <paramref name="operations"/>.</summary>
    Task ConsumeAsync(IReadOnlyList<IEvent> events, IDocumentOperations operations, CancellationToken ct);
}

/// <summary>
/// The one Marten subscription of task events, run by the async daemon on one instance at a time (hot/cold, elected
/// through a PostgreSQL advisory lock) once events are below the high-water mark: it hands each page to the
/// <see cref="ITaskEventConsumer"/>s, then sends <c>NOTIFY sliceapi_changes, '&lt;position&gt;'</c>, all in the
/// transaction that records its progress; the NOTIFY wakes the event streams held on every instance. One subscription
/// for all of it, so the daemon reads each event once.
/// </summary>
internal sealed class ChangeNotifier : SubscriptionBase
{
    private readonly IServiceProvider services;

    public ChangeNotifier(IServiceProvider services)
    {
        this.services = services;
        Name = SubscriptionName;
    }

    /// <summary>The NOTIFY channel.</summary>
    public const string Channel = "sliceapi_changes";

    /// <summary>The subscription's name (its progress row in <c>mt_event_progression</c>).</summary>
    public const string SubscriptionName = "task_events";

    public override async Task<Marten.IChangeListener> ProcessEventsAsync(
        EventRange page, ISubscriptionController controller, IDocumentOperations operations, CancellationToken cancellationToken)
    {
        var events = page.Events.Where(e => e.Data is TaskEvent).ToList();
        if (events.Count > 0)
        {
            foreach (var consumer in services.GetServices<ITaskEventConsumer>())
            {
                await consumer.ConsumeAsync(events, operations, cancellationToken);
            }
        }

        operations.QueueSqlCommand("select pg_notify(?, ?)", Channel, ChangeFeed.Format(page.SequenceCeiling));
        return Marten.NullChangeListener.Instance;
    }
}

/// <summary>
/// Deletes task events older than <see cref="ChangesOptions.RetentionDays"/> every hour (the first pass 5 minutes after
/// start), on one instance at a time (an advisory lock), and records how far it went, so an older cursor is a 410.
/// </summary>
internal sealed partial class ChangeRetention(IDocumentStore store, TimeProvider clock, Microsoft.Extensions.Options.IOptions<ChangesOptions> options,
    ILogger<ChangeRetention> logger) : BackgroundService
{
    private const long LockSpace = 0x0C_4A_46_E5;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await Task.Delay(TimeSpan.FromMinutes(5), clock, stoppingToken);
            using var timer = new PeriodicTimer(TimeSpan.FromHours(1), clock);
            do
            {
                await PruneAsync(clock.GetUtcNow() - TimeSpan.FromDays(options.Value.RetentionDays), stoppingToken);
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>
    /// Deletes the events recorded before <paramref name="cutoff"/> (UTC) that are below the high-water mark and that
    /// every subscription has processed, 10,000 per transaction; returns how many went.
    /// </summary>
    public async Task<long> PruneAsync(DateTimeOffset cutoff, CancellationToken ct)
    {
        long total = 0;
        try
        {
            while (true)
            {
                await using var session = store.LightweightSession();
                await session.TakeTurnAsync(LockSpace, ChangeFeed.RetentionId, ct);
                // Below the high-water mark and below what every subscription (webhook fan-out, stream wake-ups) has processed.
                var ceiling = (await session.QueryAsync<long>("select coalesce(min(last_seq_id), 0) from mt_event_progression", ct)).Single();
                var through = (await session.QueryAsync<long>(
                    "select coalesce(max(seq_id), 0) from (select seq_id from mt_events where seq_id <= ? and timestamp < ? order by seq_id limit 10000) batch",
                    ct, ceiling, cutoff)).Single();
                var mark = await session.LoadAsync<ChangeRetentionMark>(ChangeFeed.RetentionId, ct) ?? new ChangeRetentionMark { Id = ChangeFeed.RetentionId };
                if (through <= mark.PrunedThrough)
                {
                    return total;
                }

                var deleted = (await session.QueryAsync<long>(
                    "select count(*) from mt_events where seq_id > ? and seq_id <= ?", ct, mark.PrunedThrough, through)).Single();
                session.QueueSqlCommand("delete from mt_events where seq_id > ? and seq_id <= ?", mark.PrunedThrough, through);
                mark.PrunedThrough = through;
                session.Store(mark);
                await session.SaveChangesAsync(ct);
                total += deleted;
                LogPruned(logger, deleted, through);
            }
        }
        catch (Exception exception) when (exception is Npgsql.NpgsqlException or Marten.Exceptions.MartenException or TimeoutException)
        {
            LogPruneFailed(logger, exception.Message);
            return total;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Pruned {Count} task events through feed position {Through}")]
    private static partial void LogPruned(ILogger logger, long count, long through);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Pruning task events failed ({Reason}); the next pass retries")]
    private static partial void LogPruneFailed(ILogger logger, string reason);
}
