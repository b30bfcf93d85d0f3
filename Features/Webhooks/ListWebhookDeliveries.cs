using System.ComponentModel.DataAnnotations;
using FastEndpoints;
using FluentValidation;
using Marten;
using Microsoft.AspNetCore.Http.HttpResults;
using SliceApi.Infrastructure.Data;
using SliceApi.Infrastructure.Paging;

namespace SliceApi.Features.Webhooks;

/// <summary>Route and query string of <c>GET /api/v1/webhooks/{id}/deliveries</c>.</summary>
public sealed class ListWebhookDeliveriesQuery
{
    /// <summary>The endpoint's id.</summary>
    public Guid Id { get; set; }

    /// <summary>Page size, 1 to 100 (default 20).</summary>
    [QueryParam]
    public int? Limit { get; set; }

    /// <summary>The <c>nextCursor</c> of the previous page; absent for the newest.</summary>
    [QueryParam]
    public long? Cursor { get; set; }
}

/// <summary>A message to an endpoint and its attempts.</summary>
/// <param name="Id">The <c>webhook-id</c> of every attempt (<c>msg_</c> and 32 hex digits).</param>
/// <param name="EventType">The event type.</param>
/// <param name="EventCursor">The change's position in the changes feed.</param>
/// <param name="State">Where it stands.</param>
/// <param name="NextAttemptAt">When the next attempt is due (UTC), while pending; else null.</param>
/// <param name="CreatedAt">When it was queued (UTC).</param>
/// <param name="Attempts">Every attempt, oldest first: when, the response status, how long.</param>
/// <param name="Payload">The body every attempt sends, a <c>WebhookPayload</c> as JSON text.</param>
public sealed record WebhookDeliveryResponse(
    [property: MaxLength(36)] string Id, [property: MaxLength(32)] string EventType, [property: Range(1, long.MaxValue)] long EventCursor,
    WebhookDeliveryState State, DateTimeOffset? NextAttemptAt, DateTimeOffset CreatedAt,
    [property: MaxLength(100)] IReadOnlyList<WebhookAttemptResponse> Attempts, [property: MaxLength(65536)] string Payload)
{
    internal static WebhookDeliveryResponse From(WebhookDelivery d) => new(d.MessageId, d.EventType, d.EventSequence, d.State,
        d.State == WebhookDeliveryState.Pending ? d.NextAttemptAt : null, d.CreatedAt, d.Attempts, d.Payload);
}

/// <summary>One page of an endpoint's deliveries, newest first.</summary>
/// <param name="Items">At most <c>limit</c> deliveries.</param>
/// <param name="NextCursor">Pass as <c>cursor</c> for older ones; null on the last page.</param>
public sealed record ListWebhookDeliveriesResponse([property: MaxLength(100)] IReadOnlyList<WebhookDeliveryResponse> Items, [property: Range(1, long.MaxValue)] long? NextCursor);

/// <summary>Shape rules of <see cref="ListWebhookDeliveriesQuery"/>.</summary>
internal sealed class ListWebhookDeliveriesValidator : Validator<ListWebhookDeliveriesQuery>
{
    public ListWebhookDeliveriesValidator()
    {
        RuleFor(x => x.Limit).InclusiveBetween(1, 100);
        RuleFor(x => x.Cursor).InclusiveBetween(1, long.MaxValue);
    }
}

/// <summary>
/// <c>GET /api/v1/webhooks/{id}/deliveries</c>: what was sent to an endpoint and how each attempt went (status, response
/// code, duration), newest first, paged by cursor with a <c>Link</c> header (its owner or an admin).
/// </summary>
internal sealed class ListWebhookDeliveries(IQuerySession session) : Endpoint<ListWebhookDeliveriesQuery, Results<Ok<ListWebhookDeliveriesResponse>, ProblemHttpResult>>
{
    public override void Configure()
    {
        Get("webhooks/{id}/deliveries");
        Group<WebhooksGroup>();
        Definition.IsWebhookSlice();
        Description(b => b.ProducesProblem(StatusCodes.Status404NotFound));
        Summary(s => s.Summary = "List a webhook endpoint's deliveries and their attempts, newest first");
    }

    public override async Task<Results<Ok<ListWebhookDeliveriesResponse>, ProblemHttpResult>> ExecuteAsync(ListWebhookDeliveriesQuery req, CancellationToken ct)
    {
        if (await session.LoadOwnedAsync(req.Id, User, ct) is null)
        {
            return WebhookRules.NotFound(req.Id);
        }

        var limit = req.Limit ?? 20;
        var before = req.Cursor ?? long.MaxValue;
        var page = (await session.Query<WebhookDelivery>().Where(d => d.EndpointId == req.Id && d.EventSequence < before)
            .OrderByDescending(d => d.EventSequence).Take(limit + 1).ToListAsync(ct)).ToList();
        long? next = null;
        if (page.Count > limit)
        {
            page.RemoveAt(limit);
            next = page[^1].EventSequence;
        }

        NextPageLink.Write(HttpContext, next?.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return TypedResults.Ok(new ListWebhookDeliveriesResponse([.. page.Select(WebhookDeliveryResponse.From)], next));
    }
}

/// <summary>Route of <c>POST /api/v1/webhooks/{id}/deliveries/{deliveryId}/redeliver</c>.</summary>
public sealed class RedeliverWebhookRequest
{
    /// <summary>The endpoint's id.</summary>
    public Guid Id { get; set; }

    /// <summary>The delivery's id (<c>msg_...</c>).</summary>
    public string DeliveryId { get; set; } = "";
}

/// <summary>Shape rules of <see cref="RedeliverWebhookRequest"/>.</summary>
internal sealed class RedeliverWebhookValidator : Validator<RedeliverWebhookRequest>
{
    public RedeliverWebhookValidator() => RuleFor(x => x.DeliveryId).MaximumLength(36);
}

/// <summary>
/// <c>POST /api/v1/webhooks/{id}/deliveries/{deliveryId}/redeliver</c>: sends a delivery again now, under the same
/// <c>webhook-id</c>, with a fresh retry schedule (202; the attempt shows in the deliveries list). The endpoint must be
/// enabled (409 otherwise).
/// </summary>
internal sealed class RedeliverWebhook(IDocumentSession session, TimeProvider clock)
    : Endpoint<RedeliverWebhookRequest, Results<Accepted<WebhookDeliveryResponse>, ProblemHttpResult>>
{
    public override void Configure()
    {
        Post("webhooks/{id}/deliveries/{deliveryId}/redeliver");
        Group<WebhooksGroup>();
        Definition.IsWebhookSlice();
        Description(b => b.ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict));
        Summary(s => s.Summary = "Send a webhook delivery again");
    }

    public override async Task<Results<Accepted<WebhookDeliveryResponse>, ProblemHttpResult>> ExecuteAsync(RedeliverWebhookRequest req, CancellationToken ct)
    {
        if (await session.LoadOwnedAsync(req.Id, User, ct) is not { } endpoint)
        {
            return WebhookRules.NotFound(req.Id);
        }

        var delivery = req.DeliveryId.StartsWith("msg_", StringComparison.Ordinal) && Guid.TryParseExact(req.DeliveryId[4..], "N", out var id)
            ? await session.LoadForUpdateAsync<WebhookDelivery>(id, ct) : null;
        if (delivery is null || delivery.EndpointId != endpoint.Id)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Delivery not found.", detail: $"Webhook endpoint {req.Id} has no delivery {req.DeliveryId}.");
        }

        if (!endpoint.Enabled)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "The endpoint is disabled.",
                detail: "Enable it first (PUT /api/v1/webhooks/{id} with enabled: true), then redeliver.");
        }

        delivery.State = WebhookDeliveryState.Pending;
        delivery.Failures = 0;
        delivery.NextAttemptAt = clock.GetUtcNow();
        session.Store(delivery);
        await session.SaveChangesAsync(ct);
        return TypedResults.Accepted($"{SliceApi.Infrastructure.Endpoints.ApiEndpoints.V1Prefix}/webhooks/{endpoint.Id}/deliveries", WebhookDeliveryResponse.From(delivery));
    }
}
