using System.ComponentModel.DataAnnotations;
using System.Security.Claims;
using FastEndpoints;
using FluentValidation;
using Marten;
using Microsoft.AspNetCore.Http.HttpResults;
using SliceApi.Infrastructure.Data;
using SliceApi.Infrastructure.OpenApi;
using SliceApi.Infrastructure.Security;
using SliceApi.Infrastructure.Validation;

namespace SliceApi.Features.Webhooks;

/// <summary>The webhook slices: tagged <c>Webhooks</c>; a user's own access token only (no API keys, no apps).</summary>
internal sealed class WebhooksGroup : Group
{
    /// <summary>The tag's place and description in the OpenAPI document.</summary>
    internal static readonly DocumentedTag Tag = new("Webhooks", 7,
        "Endpoints that receive task events as signed POSTs (Standard Webhooks: webhook-id, webhook-timestamp, webhook-signature), " +
        "retried with backoff for about a day; the bodies are the WebhookPayload schema.");

    public WebhooksGroup() =>
        Configure("", ep => ep.Description(b => b.WithTags("Webhooks").WithMetadata(Tag)));
}

/// <summary>Route of the slices about one endpoint.</summary>
public sealed class WebhookRoute
{
    /// <summary>The endpoint's id.</summary>
    public Guid Id { get; set; }
}

/// <summary>A webhook endpoint as the API shows it (never its secret).</summary>
/// <param name="Id">The id.</param>
/// <param name="Url">Where deliveries are POSTed.</param>
/// <param name="EventTypes">The event types it receives.</param>
/// <param name="Enabled">False once disabled; nothing is sent then.</param>
/// <param name="DisabledAt">When it was disabled (UTC), or null.</param>
/// <param name="DisabledReason">Why it was disabled, e.g. the delivery whose every attempt failed; null while enabled.</param>
/// <param name="PreviousSecretExpiresAt">Until when the secret before the last rotation still signs (UTC), or null.</param>
/// <param name="CreatedAt">UTC.</param>
public sealed record WebhookResponse(
    Guid Id, [property: MaxLength(2048)] string Url,
    [property: MaxLength(6), DocumentedItems("task.created", "task.updated", "task.status_changed", "task.assigned", "task.unassigned", "task.deleted")] IReadOnlyList<string> EventTypes,
    bool Enabled, DateTimeOffset? DisabledAt, [property: MaxLength(500)] string? DisabledReason, DateTimeOffset? PreviousSecretExpiresAt, DateTimeOffset CreatedAt)
{
    internal static WebhookResponse From(WebhookEndpoint w) =>
        new(w.Id, w.Url, w.EventTypes, w.Enabled, w.DisabledAt, w.DisabledReason, w.PreviousSecretExpiresAt, w.CreatedAt);
}

/// <summary>Rules and lookups the webhook slices share.</summary>
internal static class WebhookRules
{
    /// <summary>The conventions of every webhook slice: any role, the user's own token (API keys and apps get 403).</summary>
    public static void IsWebhookSlice(this FastEndpoints.EndpointDefinition endpoint)
    {
        endpoint.Roles(AppRoles.Admin, AppRoles.User, AppRoles.Guest);
    }

    /// <summary>1 to 6 distinct types, each one of <see cref="WebhookEventTypes.All"/>.</summary>
    public static void EventTypes<T>(this IRuleBuilderInitial<T, string[]> rule) =>
        rule.Cascade(CascadeMode.Stop).NotEmpty()
            .EachOneOf(WebhookEventTypes.All).WithMessage($"Each of 'eventTypes' must be one of: {string.Join(", ", WebhookEventTypes.All)}.")
            .Must(t => t!.Length <= WebhookEventTypes.All.Length && t.Distinct().Count() == t.Length)
            .WithMessage($"'eventTypes' names each type once, at most {WebhookEventTypes.All.Length}.");

    /// <summary>The endpoint with <paramref name="id"/> when <paramref name="caller"/> owns it (or is an admin), else null.</summary>
    public static async Task<WebhookEndpoint?> LoadOwnedAsync(this IQuerySession session, Guid id, ClaimsPrincipal caller, CancellationToken ct) =>
        await session.LoadAsync<WebhookEndpoint>(id, ct) is { } w && MayUse(caller, w) ? w : null;

    /// <summary>Whether <paramref name="caller"/> owns <paramref name="endpoint"/> or is an admin.</summary>
    public static bool MayUse(ClaimsPrincipal caller, WebhookEndpoint endpoint) => caller.IsAdmin() || endpoint.OwnerId == caller.GetUserId();

    /// <summary>The 404 problem of an endpoint that does not exist or is not the caller's.</summary>
    public static ProblemHttpResult NotFound(Guid id) => TypedResults.Problem(statusCode: StatusCodes.Status404NotFound,
        title: "Webhook not found.", detail: $"No webhook endpoint {id} is yours.");
}
