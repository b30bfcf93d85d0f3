using FastEndpoints;
using Marten;
using Microsoft.AspNetCore.Http.HttpResults;
using SliceApi.Infrastructure.Security;

namespace SliceApi.Features.Webhooks;

/// <summary><c>GET /api/v1/webhooks</c>: the caller's endpoints (at most 10), oldest first.</summary>
internal sealed class ListWebhooks(IQuerySession session) : EndpointWithoutRequest<Ok<IReadOnlyList<WebhookResponse>>>
{
    public override void Configure()
    {
        Get("webhooks");
        Group<WebhooksGroup>();
        Definition.IsWebhookSlice();
        Description(b => b.WithMetadata(new SliceApi.Infrastructure.OpenApi.DocumentedMaxItems(WebhookEndpoint.MaxPerUser)));
        Summary(s => s.Summary = "List your webhook endpoints");
    }

    public override async Task<Ok<IReadOnlyList<WebhookResponse>>> ExecuteAsync(CancellationToken ct)
    {
        var ownerId = User.GetUserId();
        var endpoints = await session.Query<WebhookEndpoint>().Where(w => w.OwnerId == ownerId)
            .OrderBy(w => w.CreatedAt).ThenBy(w => w.Id).ToListAsync(ct); // ids made in one millisecond are in no order
        return TypedResults.Ok<IReadOnlyList<WebhookResponse>>([.. endpoints.Select(WebhookResponse.From)]);
    }
}

/// <summary><c>GET /api/v1/webhooks/{id}</c>: one endpoint (its owner or an admin), with why it was disabled if it was.</summary>
internal sealed class GetWebhook(IQuerySession session) : Endpoint<WebhookRoute, Results<Ok<WebhookResponse>, ProblemHttpResult>>
{
    public override void Configure()
    {
        Get("webhooks/{id}");
        Group<WebhooksGroup>();
        Definition.IsWebhookSlice();
        Description(b => b.ProducesProblem(StatusCodes.Status404NotFound));
        Summary(s => s.Summary = "Get a webhook endpoint");
    }

    public override async Task<Results<Ok<WebhookResponse>, ProblemHttpResult>> ExecuteAsync(WebhookRoute req, CancellationToken ct) =>
        await session.LoadOwnedAsync(req.Id, User, ct) is { } endpoint ? TypedResults.Ok(WebhookResponse.From(endpoint)) : WebhookRules.NotFound(req.Id);
}

/// <summary><c>DELETE /api/v1/webhooks/{id}</c>: deletes an endpoint and its deliveries (its owner or an admin).</summary>
internal sealed class DeleteWebhook(IDocumentSession session) : Endpoint<WebhookRoute, Results<NoContent, ProblemHttpResult>>
{
    public override void Configure()
    {
        Delete("webhooks/{id}");
        Group<WebhooksGroup>();
        Definition.IsWebhookSlice();
        Description(b => b.ProducesProblem(StatusCodes.Status404NotFound));
        Summary(s => s.Summary = "Delete a webhook endpoint and its deliveries");
    }

    public override async Task<Results<NoContent, ProblemHttpResult>> ExecuteAsync(WebhookRoute req, CancellationToken ct)
    {
        if (await SliceApi.Infrastructure.Data.LockedReads.LoadForUpdateAsync<WebhookEndpoint>(session, req.Id, ct) is not { } endpoint || !WebhookRules.MayUse(User, endpoint))
        {
            return WebhookRules.NotFound(req.Id);
        }

        session.Delete(endpoint);
        await session.SaveChangesAsync(ct);
        return TypedResults.NoContent();
    }
}
