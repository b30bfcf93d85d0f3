using System.Text;
using System.Text.Json;
using FastEndpoints;
using FluentValidation;
using Marten;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;
using SliceApi.Infrastructure.Endpoints;
using SliceApi.Infrastructure.Security;

namespace SliceApi.Features.Changes;

/// <summary>Query string and headers of <c>GET /api/v1/changes/stream</c>.</summary>
public sealed class StreamChangesQuery
{
    /// <summary>Where to start, as for <c>GET /api/v1/changes</c>; absent to start with changes from now on. <c>Last-Event-ID</c> wins when both are sent.</summary>
    [QueryParam]
    public string? After { get; set; }

    /// <summary>Sent by a reconnecting <c>EventSource</c>: the <c>id</c> of the last change it received.</summary>
    [FromHeader("Last-Event-ID", IsRequired = false)]
    public string? LastEventId { get; set; }
}

/// <summary>Shape rules of <see cref="StreamChangesQuery"/>.</summary>
internal sealed class StreamChangesValidator : Validator<StreamChangesQuery>
{
    public StreamChangesValidator()
    {
        RuleFor(x => x.After).MaximumLength(19);
        RuleFor(x => x.LastEventId).MaximumLength(19);
        RuleFor(x => x.After).Must(a => a is null || ChangeFeed.TryParse(a, out _))
            .WithMessage("'after' must be a cursor returned by this API (nextCursor or a change's cursor).");
        RuleFor(x => x.LastEventId).Must(a => a is null || ChangeFeed.TryParse(a, out _)).OverridePropertyName("Last-Event-ID")
            .WithMessage("'Last-Event-ID' must be the id of a change this stream sent.");
    }
}

/// <summary>
/// Wakes the event streams of this instance when changes commit: the <see cref="ChangeNotifier"/> subscription's NOTIFY,
/// heard on the instance's LISTEN connection. Take <see cref="Next"/> before reading the feed, then wait on it, so a
/// change that commits during the read is not missed.
/// </summary>
internal sealed class ChangeSignal : SliceApi.Infrastructure.Security.INotificationSubscriber
{
    private TaskCompletionSource next = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <inheritdoc />
    public string Channel => ChangeNotifier.Channel;

    /// <summary>Completes at the next notification (or when notifications may have been missed).</summary>
    public Task Next => Volatile.Read(ref next).Task;

    /// <inheritdoc />
    public void Notified(string payload) => Pulse();

    /// <inheritdoc />
    public void Lost() => Pulse();

    private void Pulse() => Interlocked.Exchange(ref next, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
}

/// <summary>
/// <c>GET /api/v1/changes/stream</c>: the changes feed as Server-Sent Events (<c>text/event-stream</c>), sent as they
/// commit, on any instance. Each change is an event <c>change</c> whose <c>id</c> is its feed cursor and whose
/// <c>data</c> is the <see cref="ChangeResponse"/> JSON, so a client that reconnects with <c>Last-Event-ID</c> misses
/// nothing and sees nothing twice. A comment line (<c>: keep-alive</c>) goes out after
/// <c>Changes:HeartbeatSeconds</c> (15) without data, so proxies keep the connection; on shutdown the stream ends
/// cleanly and the client reconnects (to another instance). Written here rather than with FastEndpoints' event stream,
/// which cannot send comment lines and always writes an empty <c>retry</c> field.
/// </summary>
internal sealed class StreamChanges(IQuerySession session, ChangeSignal signal, IOptions<ChangesOptions> options, IOptions<JsonOptions> json,
    IHostApplicationLifetime lifetime) : Endpoint<StreamChangesQuery>
{
    private const int PageSize = 100;

    /// <summary>Longest wait between two reads of the feed, in case a notification was missed.</summary>
    private static readonly TimeSpan ReadAtLeastEvery = TimeSpan.FromSeconds(5);

    public override void Configure()
    {
        Get("changes/stream");
        Group<ChangesGroup>();
        Definition.CallableWithScope(ApiScopes.TasksRead);
        Description(b => b.ClearDefaultProduces().Produces<ChangeResponse>(StatusCodes.Status200OK, "text/event-stream")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status410Gone));
        Summary(s => s.Summary = "The changes as Server-Sent Events, live; resume with Last-Event-ID");
    }

    public override async Task HandleAsync(StreamChangesQuery req, CancellationToken ct)
    {
        var cursor = req.LastEventId ?? req.After;
        var parameter = req.LastEventId is null ? "after" : "Last-Event-ID";
        long? after = ChangeFeed.TryParse(cursor, out var position) ? position : await ChangeFeed.HighWaterMarkAsync(session, ct);
        var (state, start, _) = await ChangeFeed.CheckAsync(session, after, ct);
        if (state != CursorState.Valid)
        {
            await Send.ResultAsync(state == CursorState.Expired ? ChangeFeedProblems.Expired() : ChangeFeedProblems.Unknown(parameter));
            return;
        }

        var response = HttpContext.Response;
        response.ContentType = "text/event-stream; charset=utf-8";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no"; // nginx passes it on unbuffered
        await response.Body.FlushAsync(ct);

        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(ct, lifetime.ApplicationStopping);
        var heartbeat = TimeSpan.FromSeconds(options.Value.HeartbeatSeconds);
        var lastWrite = DateTime.UtcNow;
        try
        {
            while (!stopping.IsCancellationRequested)
            {
                var woken = signal.Next;
                var page = await ChangeFeed.ReadAsync(session, User, start, PageSize, stopping.Token);
                if (page.Items.Count > 0)
                {
                    var text = new StringBuilder();
                    foreach (var change in page.Items)
                    {
                        text.Append("id: ").Append(change.Cursor).Append("\nevent: change\ndata: ")
                            .Append(JsonSerializer.Serialize(change, json.Value.SerializerOptions)).Append("\n\n");
                    }

                    await response.WriteAsync(text.ToString(), stopping.Token);
                    await response.Body.FlushAsync(stopping.Token);
                    lastWrite = DateTime.UtcNow;
                }

                _ = ChangeFeed.TryParse(page.NextCursor, out start); // always a cursor ReadAsync formatted
                if (page.HasMore)
                {
                    continue;
                }

                var untilHeartbeat = heartbeat - (DateTime.UtcNow - lastWrite);
                if (untilHeartbeat <= TimeSpan.Zero)
                {
                    await response.WriteAsync(": keep-alive\n\n", stopping.Token);
                    await response.Body.FlushAsync(stopping.Token);
                    lastWrite = DateTime.UtcNow;
                    untilHeartbeat = heartbeat;
                }

                await Task.WhenAny(woken, Task.Delay(untilHeartbeat < ReadAtLeastEvery ? untilHeartbeat : ReadAtLeastEvery, stopping.Token));
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // The client left or the instance is stopping: the stream ends; an EventSource reconnects with Last-Event-ID.
        }
    }
}
