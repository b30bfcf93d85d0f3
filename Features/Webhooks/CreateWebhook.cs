using System.ComponentModel.DataAnnotations;
using FastEndpoints;
using FluentValidation;
using Marten;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using SliceApi.Infrastructure.Data;
using SliceApi.Infrastructure.Endpoints;
using SliceApi.Infrastructure.Security;

namespace SliceApi.Features.Webhooks;

/// <summary>Body of <c>POST /api/v1/webhooks</c>.</summary>
public sealed class CreateWebhookRequest
{
    /// <summary>An absolute https URL whose host resolves to public addresses only.</summary>
    public string Url { get; set; } = "";

    /// <summary>The event types to receive: <c>task.created</c>, <c>task.updated</c>, <c>task.status_changed</c>, <c>task.assigned</c>, <c>task.unassigned</c>, <c>task.deleted</c>.</summary>
    [MaxLength(6)]
    public string[] EventTypes { get; set; } = [];
}

/// <summary>A new endpoint and its signing secret, shown only here.</summary>
/// <param name="Secret">The Standard Webhooks secret (<c>whsec_</c> and base64) that verifies <c>webhook-signature</c>; store it now.</param>
/// <param name="Webhook">The endpoint.</param>
public sealed record CreateWebhookResponse([property: MaxLength(50)] string Secret, WebhookResponse Webhook);

/// <summary>Shape rules of <see cref="CreateWebhookRequest"/>.</summary>
internal sealed class CreateWebhookValidator : Validator<CreateWebhookRequest>
{
    public CreateWebhookValidator()
    {
        RuleFor(x => x.Url).NotEmpty().MaximumLength(2048);
        RuleFor(x => x.EventTypes).EventTypes();
    }
}

/// <summary>
/// <c>POST /api/v1/webhooks</c>: registers an endpoint that receives the events of the tasks the caller may see, signed
/// with a secret returned once (at most 10 endpoints per user, 409 beyond). URLs that resolve to loopback, private,
/// link-local or metadata addresses are refused (OWASP SSRF Prevention Cheat Sheet) unless <c>Webhooks:AllowPrivateNetworks</c>.
/// </summary>
internal sealed class CreateWebhook(IDocumentSession session, WebhookSecrets secrets, IOptions<WebhookOptions> options, TimeProvider clock)
    : Endpoint<CreateWebhookRequest, Results<Created<CreateWebhookResponse>, ValidationProblem, ProblemHttpResult>>
{
    public override void Configure()
    {
        Post("webhooks");
        Group<WebhooksGroup>();
        Definition.IsWebhookSlice();
        Description(b => b.ProducesProblem(StatusCodes.Status409Conflict));
        Summary(s =>
        {
            s.Summary = "Register a webhook endpoint (its signing secret is shown once)";
            s.ExampleRequest = new CreateWebhookRequest { Url = "https://hooks.example.com/sliceapi", EventTypes = ["task.created", "task.status_changed"] };
        });
    }

    public override async Task<Results<Created<CreateWebhookResponse>, ValidationProblem, ProblemHttpResult>> ExecuteAsync(CreateWebhookRequest req, CancellationToken ct)
    {
        if (await WebhookAddresses.ProblemAsync(req.Url, options.Value.AllowPrivateNetworks, ct) is { } refused)
        {
            return refused;
        }

        var ownerId = User.GetUserId();
        await session.TakeTurnAsync(7333, ownerId.ToString(), ct);
        var owned = await session.Query<WebhookEndpoint>().CountAsync(w => w.OwnerId == ownerId, ct);
        if (owned >= WebhookEndpoint.MaxPerUser)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Too many webhook endpoints.",
                detail: $"You have {owned} endpoints, the most allowed; delete one (DELETE /api/v1/webhooks/{{id}}) first.");
        }

        var secret = WebhookSecrets.Create();
        var now = clock.GetStoredUtcNow();
        var endpoint = new WebhookEndpoint
        {
            Id = Guid.CreateVersion7(), OwnerId = ownerId, Url = req.Url, EventTypes = req.EventTypes,
            ProtectedSecret = secrets.Protect(secret), CreatedAt = now, EnabledSince = now,
        };
        session.Insert(endpoint);
        await session.SaveChangesAsync(ct);
        HttpContext.Response.Headers.CacheControl = "no-store";
        return TypedResults.Created($"{ApiEndpoints.V1Prefix}/webhooks/{endpoint.Id}", new CreateWebhookResponse(secret, WebhookResponse.From(endpoint)));
    }
}
