using System.ComponentModel.DataAnnotations;
using FastEndpoints;
using FluentValidation;
using Marten;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using SliceApi.Infrastructure.Data;

namespace SliceApi.Features.Webhooks;

/// <summary>Body of <c>PUT /api/v1/webhooks/{id}</c>: the endpoint's new URL, event types and whether it is enabled.</summary>
public sealed class UpdateWebhookRequest
{
    /// <summary>The endpoint's id (from the route).</summary>
    [RouteParam]
    public Guid Id { get; set; }

    /// <summary>An absolute https URL whose host resolves to public addresses only.</summary>
    public string Url { get; set; } = "";

    /// <summary>The event types to receive.</summary>
    [MaxLength(6)]
    public string[] EventTypes { get; set; } = [];

    /// <summary>True to (re-)enable it, false to stop deliveries (pending ones then fail).</summary>
    public bool Enabled { get; set; } = true;
}

/// <summary>Shape rules of <see cref="UpdateWebhookRequest"/>.</summary>
internal sealed class UpdateWebhookValidator : Validator<UpdateWebhookRequest>
{
    public UpdateWebhookValidator()
    {
        RuleFor(x => x.Url).NotEmpty().MaximumLength(2048);
        RuleFor(x => x.EventTypes).EventTypes();
    }
}

/// <summary>
/// <c>PUT /api/v1/webhooks/{id}</c>: replaces an endpoint's URL and event types and enables or disables it (its owner or
/// an admin). Enabling a disabled endpoint clears why it was disabled; it then receives the events that occur from
/// then on (not those of the time it was disabled), and its failed deliveries can be sent again with
/// <c>POST .../deliveries/{deliveryId}/redeliver</c>.
/// </summary>
internal sealed class UpdateWebhook(IDocumentSession session, IOptions<WebhookOptions> options, TimeProvider clock)
    : Endpoint<UpdateWebhookRequest, Results<Ok<WebhookResponse>, ValidationProblem, ProblemHttpResult>>
{
    private static readonly string[] ExampleTypes = ["task.created"];

    public override void Configure()
    {
        Put("webhooks/{id}");
        Group<WebhooksGroup>();
        Definition.IsWebhookSlice();
        Description(b => b.ProducesProblem(StatusCodes.Status404NotFound));
        Summary(s =>
        {
            s.Summary = "Change a webhook endpoint's URL and event types, or enable or disable it";
            s.ExampleRequest = new { url = "https://hooks.example.com/sliceapi", eventTypes = ExampleTypes, enabled = true }; // the route's id is not part of the body
        });
    }

    public override async Task<Results<Ok<WebhookResponse>, ValidationProblem, ProblemHttpResult>> ExecuteAsync(UpdateWebhookRequest req, CancellationToken ct)
    {
        if (await WebhookAddresses.ProblemAsync(req.Url, options.Value.AllowPrivateNetworks, ct) is { } refused)
        {
            return refused;
        }

        if (await session.LoadForUpdateAsync<WebhookEndpoint>(req.Id, ct) is not { } endpoint || !WebhookRules.MayUse(User, endpoint))
        {
            return WebhookRules.NotFound(req.Id);
        }

        if (!req.Enabled && endpoint.Enabled)
        {
            WebhookEndpoints.Disable(session, endpoint, "Disabled by its owner.", clock.GetStoredUtcNow());
        }
        else if (req.Enabled && !endpoint.Enabled)
        {
            endpoint.Enabled = true;
            endpoint.EnabledSince = clock.GetStoredUtcNow(); // events of the time it was disabled stay unsent
            endpoint.DisabledAt = null;
            endpoint.DisabledReason = null;
        }

        endpoint.Url = req.Url;
        endpoint.EventTypes = req.EventTypes;
        session.UpdateRevision(endpoint, endpoint.Version + 1);
        await session.SaveChangesAsync(ct);
        return TypedResults.Ok(WebhookResponse.From(endpoint));
    }
}

/// <summary>A new signing secret, shown only here.</summary>
/// <param name="Secret">The new secret (<c>whsec_</c> and base64); deliveries are signed with it from now on.</param>
/// <param name="PreviousSecretExpiresAt">Until when the old secret signs too (UTC, 24 hours): both signatures are sent meanwhile.</param>
public sealed record RotateWebhookSecretResponse([property: MaxLength(50)] string Secret, DateTimeOffset PreviousSecretExpiresAt);

/// <summary>
/// <c>POST /api/v1/webhooks/{id}/rotate-secret</c>: replaces the signing secret; for 24 hours every delivery carries a
/// signature with each, so a receiver can switch without dropping one (Standard Webhooks: several signatures, space-separated).
/// </summary>
internal sealed class RotateWebhookSecret(IDocumentSession session, WebhookSecrets secrets, TimeProvider clock)
    : Endpoint<WebhookRoute, Results<Ok<RotateWebhookSecretResponse>, ProblemHttpResult>>
{
    /// <summary>How long the old secret keeps signing.</summary>
    public static readonly TimeSpan Overlap = TimeSpan.FromHours(24);

    public override void Configure()
    {
        Post("webhooks/{id}/rotate-secret");
        Group<WebhooksGroup>();
        Definition.IsWebhookSlice();
        Description(b => b.ProducesProblem(StatusCodes.Status404NotFound));
        Summary(s => s.Summary = "Rotate a webhook endpoint's signing secret (the old one signs too for 24 hours)");
    }

    public override async Task<Results<Ok<RotateWebhookSecretResponse>, ProblemHttpResult>> ExecuteAsync(WebhookRoute req, CancellationToken ct)
    {
        if (await session.LoadForUpdateAsync<WebhookEndpoint>(req.Id, ct) is not { } endpoint || !WebhookRules.MayUse(User, endpoint))
        {
            return WebhookRules.NotFound(req.Id);
        }

        var secret = WebhookSecrets.Create();
        endpoint.ProtectedPreviousSecret = endpoint.ProtectedSecret;
        endpoint.PreviousSecretExpiresAt = clock.GetStoredUtcNow() + Overlap;
        endpoint.ProtectedSecret = secrets.Protect(secret);
        session.UpdateRevision(endpoint, endpoint.Version + 1);
        await session.SaveChangesAsync(ct);
        HttpContext.Response.Headers.CacheControl = "no-store";
        return TypedResults.Ok(new RotateWebhookSecretResponse(secret, endpoint.PreviousSecretExpiresAt.Value));
    }
}
