using System.ComponentModel.DataAnnotations;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using JasperFx.Events;
using Marten;
using Microsoft.Extensions.Options;
using Microsoft.AspNetCore.Http.Json;
using SliceApi.Features.Changes;
using SliceApi.Features.Tasks;
using SliceApi.Features.Users;
using SliceApi.Infrastructure.Security;

namespace SliceApi.Features.Webhooks;

/// <summary>Where a delivery stands; on the wire in snake_case.</summary>
public enum WebhookDeliveryState
{
    /// <summary><c>pending</c>: an attempt is due now or at <c>nextAttemptAt</c>.</summary>
    Pending,

    /// <summary><c>succeeded</c>: the endpoint answered 2xx.</summary>
    Succeeded,

    /// <summary><c>failed</c>: every attempt failed (the endpoint was disabled), or the endpoint was disabled before it was sent.</summary>
    Failed,
}

/// <summary>One attempt to deliver a message.</summary>
/// <param name="At">When it started (UTC).</param>
/// <param name="StatusCode">The endpoint's HTTP status, or null when no response came (refused, timed out).</param>
/// <param name="DurationMs">How long it took, in milliseconds.</param>
/// <param name="Error">Why it failed without a response, in words; null otherwise.</param>
public sealed record WebhookAttemptResponse(DateTimeOffset At, [property: Range(100, 599)] int? StatusCode, [property: Range(0, 600000)] long DurationMs,
    [property: MaxLength(500)] string? Error);

/// <summary>
/// One message for one endpoint (document <c>mt_doc_webhookdelivery</c>): the signed body, fixed when the event was
/// fanned out so every attempt sends the same bytes under the same <c>webhook-id</c>, and the attempts so far. Deleted
/// with its endpoint (foreign key, ON DELETE CASCADE).
/// </summary>
internal sealed class WebhookDelivery
{
    /// <summary>Derived from the event and the endpoint, so fanning out an event twice stores one delivery.</summary>
    public Guid Id { get; init; }

    /// <summary>The endpoint.</summary>
    public Guid EndpointId { get; init; }

    /// <summary>The event's feed position (its global sequence).</summary>
    public long EventSequence { get; init; }

    /// <summary>The webhook type, e.g. <c>task.created</c>.</summary>
    public required string EventType { get; init; }

    /// <summary>The JSON body, UTF-8.</summary>
    public required string Payload { get; init; }

    /// <summary>Where it stands.</summary>
    public WebhookDeliveryState State { get; set; }

    /// <summary>When the next attempt is due (UTC); meaningful while pending.</summary>
    public DateTimeOffset NextAttemptAt { get; set; }

    /// <summary>Failed attempts since it was queued or last redelivered; the retry schedule counts these.</summary>
    public int Failures { get; set; }

    /// <summary>Every attempt, oldest first.</summary>
    public List<WebhookAttemptResponse> Attempts { get; set; } = [];

    /// <summary>UTC.</summary>
    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>The <c>webhook-id</c> header: the same on every attempt of this message.</summary>
    public string MessageId => "msg_" + Id.ToString("N");

    /// <summary>The delivery id of an event for an endpoint: the first 16 bytes of SHA-256 over both ids.</summary>
    public static Guid IdFor(Guid eventId, Guid endpointId) =>
        new(SHA256.HashData([.. eventId.ToByteArray(), .. endpointId.ToByteArray()]).AsSpan(0, 16));
}

/// <summary>
/// The storage of deliveries: the endpoint a foreign key (ON DELETE CASCADE); due deliveries found through
/// (state, next_attempt_at); an endpoint's deliveries listed through (endpoint_id, event_sequence).
/// </summary>
internal sealed class WebhookDeliveryMapping : IConfigureMarten
{
    public void Configure(IServiceProvider services, StoreOptions options)
    {
        options.Schema.For<WebhookDelivery>()
            .Duplicate(d => d.State, configure: ix => ix.Name = "ix_webhookdelivery_state")
            .Duplicate(d => d.NextAttemptAt, configure: ix => ix.Name = "ix_webhookdelivery_next_attempt_at")
            .Duplicate(d => d.EndpointId, configure: ix => ix.Name = "ix_webhookdelivery_endpoint_id")
            .Duplicate(d => d.EventSequence, configure: ix => ix.Name = "ix_webhookdelivery_event_sequence")
            .Index([d => d.State, d => d.NextAttemptAt], ix => ix.Name = "ix_webhookdelivery_due")
            .Index([d => d.EndpointId, d => d.EventSequence], ix => ix.Name = "ix_webhookdelivery_endpoint_sequence")
#pragma warning disable CS0618 // Weasel's ForeignKey.OnDelete still has the type it marks obsolete
            .ForeignKey<WebhookEndpoint>(d => d.EndpointId, fk => fk.OnDelete = Weasel.Postgresql.CascadeAction.Cascade);
#pragma warning restore CS0618
    }
}

/// <summary>
/// The body of every webhook POST (Standard Webhooks' recommended shape). Headers: <c>webhook-id</c> (the same on every
/// attempt of one message), <c>webhook-timestamp</c> (Unix seconds of the attempt) and <c>webhook-signature</c>.
/// </summary>
/// <param name="Type">The event type, e.g. <c>task.status_changed</c>.</param>
/// <param name="Timestamp">When the change was made (UTC).</param>
/// <param name="Data">The change, as <c>GET /api/v1/changes</c> lists it for the endpoint's owner.</param>
[SliceApi.Infrastructure.OpenApi.DocumentedComponent]
public sealed record WebhookPayload([property: MaxLength(32)] string Type, DateTimeOffset Timestamp, ChangeResponse Data);

/// <summary>
/// Queues webhook deliveries, as a consumer of the task events subscription (<see cref="ChangeNotifier"/>, one instance
/// at a time, in commit order): for every task event it stores one <see cref="WebhookDelivery"/> per endpoint enabled
/// since before the event that wants its type and whose owner may see the task (or saw it, when the change takes it away: then
/// <c>removed</c>), in the transaction that records the subscription's progress, so each event is queued once for each
/// endpoint (the delivery id is derived from both, so even a page processed twice stores one).
/// </summary>
internal sealed class WebhookFanOut(IOptions<JsonOptions> json, TimeProvider clock) : ITaskEventConsumer
{
    public async Task ConsumeAsync(IReadOnlyList<IEvent> events, IDocumentOperations operations, CancellationToken ct)
    {
        var endpoints = await operations.Query<WebhookEndpoint>().Where(w => w.Enabled).ToListAsync(ct);
        if (endpoints.Count == 0)
        {
            return;
        }

        var roles = (await operations.LoadManyAsync<User>(ct, endpoints.Select(w => w.OwnerId).Distinct())).ToDictionary(u => u.Id, u => u.Role);
        var now = clock.GetUtcNow();
        foreach (var e in events)
        {
            var type = WebhookEventTypes.Of(((TaskEvent)e.Data).Type);
            foreach (var endpoint in endpoints.Where(w => w.EventTypes.Contains(type) && e.Timestamp >= w.EnabledSince && roles.ContainsKey(w.OwnerId)))
            {
                if (ChangeFeed.ToChange(e, Viewer(endpoint.OwnerId, roles[endpoint.OwnerId])) is not { } change)
                {
                    continue;
                }

                operations.Store(new WebhookDelivery
                {
                    Id = WebhookDelivery.IdFor(e.Id, endpoint.Id),
                    EndpointId = endpoint.Id,
                    EventSequence = e.Sequence,
                    EventType = type,
                    Payload = JsonSerializer.Serialize(new WebhookPayload(type, e.Timestamp, change), json.Value.SerializerOptions),
                    State = WebhookDeliveryState.Pending,
                    NextAttemptAt = now,
                    CreatedAt = now,
                });
            }
        }
    }

    private static System.Security.Claims.ClaimsPrincipal Viewer(Guid userId, string role) => new(new System.Security.Claims.ClaimsIdentity(
        [new(AccessTokenClaims.Subject, userId.ToString()), new(AccessTokenClaims.Role, role)], "webhook", AccessTokenClaims.Subject, AccessTokenClaims.Role));
}
