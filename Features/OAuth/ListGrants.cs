using FastEndpoints;
using Marten;
using Microsoft.AspNetCore.Http.HttpResults;
using SliceApi.Features.Users;
using SliceApi.Infrastructure.OpenApi;
using SliceApi.Infrastructure.Security;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace SliceApi.Features.OAuth;

/// <summary>The app a grant is for, as the grant list shows it.</summary>
/// <param name="Id">The app's id.</param>
/// <param name="ClientId">Its <c>client_id</c>, 32 hex digits.</param>
/// <param name="Name">Its name, as the consent page showed it.</param>
public sealed record GrantedApp(
    Guid Id,
    [property: System.ComponentModel.DataAnnotations.MaxLength(32)] string ClientId,
    [property: System.ComponentModel.DataAnnotations.MaxLength(100)] string Name);

/// <summary>A grant: the user allowed an app these scopes.</summary>
/// <param name="Id">The grant's id (<c>DELETE /api/v1/users/me/authorizations/{id}</c> revokes it).</param>
/// <param name="App">The app.</param>
/// <param name="Scopes">The scopes allowed: <c>tasks:read</c>, <c>tasks:write</c>, <c>profile</c>, <c>offline_access</c>.</param>
/// <param name="GrantedAt">When the user pressed Allow, UTC.</param>
public sealed record GrantResponse(
    Guid Id,
    GrantedApp App,
    [property: System.ComponentModel.DataAnnotations.MaxLength(4), DocumentedItems(ApiScopes.TasksRead, ApiScopes.TasksWrite, ApiScopes.Profile, "offline_access")] string[] Scopes,
    DateTimeOffset GrantedAt);

/// <summary>
/// <c>GET /api/v1/users/me/authorizations</c>: the grants the caller gave apps that still count, newest first, at most
/// <see cref="MaxItems"/>. A grant counts until it is revoked, its app deleted, the password changed after it, or the
/// account deactivated.
/// </summary>
internal sealed class ListGrants(IQuerySession session) : EndpointWithoutRequest<Ok<List<GrantResponse>>>
{
    /// <summary>The most grants the list shows.</summary>
    public const int MaxItems = 100;

    public override void Configure()
    {
        Get("users/me/authorizations");
        Group<OAuthGroup>();
        Description(b => b.WithMetadata(new DocumentedMaxItems(MaxItems)));
        Summary(s => s.Summary = "List the apps you allowed to act for you");
    }

    public override async Task<Ok<List<GrantResponse>>> ExecuteAsync(CancellationToken ct)
    {
        var userId = User.GetUserId();
        var subject = userId.ToString();
        var validAfter = (await session.LoadAsync<User>(userId, ct))?.TokensValidAfter ?? DateTimeOffset.MinValue;
        var grants = await session.Query<OAuthAuthorization>()
            .Where(a => a.Subject == subject && a.Status == Statuses.Valid && a.Type == AuthorizationTypes.Permanent && a.CreationDate >= validAfter)
            .OrderByDescending(a => a.CreationDate).ThenByDescending(a => a.Id)
            .Take(MaxItems)
            .ToListAsync(ct);
        var apps = await session.LoadManyAsync<OAuthApplication>(ct, grants.Where(g => g.ApplicationId is not null).Select(g => g.ApplicationId!.Value).Distinct());
        var byId = apps.ToDictionary(a => a.Id);
        return TypedResults.Ok<List<GrantResponse>>([.. grants
            .Select(g => (Grant: g, App: g.ApplicationId is { } id ? byId.GetValueOrDefault(id) : null))
            .Where(p => p.App is not null)
            .Select(p => new GrantResponse(p.Grant.Id, new GrantedApp(p.App!.Id, p.App.ClientId!, p.App.DisplayName!),
                [.. p.Grant.Scopes.Order(StringComparer.Ordinal)], p.Grant.CreationDate!.Value))]);
    }
}
