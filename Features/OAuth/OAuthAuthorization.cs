using System.Collections.Immutable;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Marten;
using OpenIddict.Abstractions;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace SliceApi.Features.OAuth;

/// <summary>
/// A grant (OpenIddict's "authorization"): a user's consent that one app may act with some scopes, a Marten document
/// (table <c>mt_doc_oauthauthorization</c>). The tokens issued under it point at it, and revoking it ends them all.
/// </summary>
public sealed class OAuthAuthorization : IOAuthDocument
{
    /// <summary>The grant's id, a version-7 GUID.</summary>
    public Guid Id { get; set; }

    /// <summary>The app (<see cref="OAuthApplication.Id"/>) the grant is for.</summary>
    public Guid? ApplicationId { get; set; }

    /// <summary>The user who granted it: their id as a string (OpenIddict's subject).</summary>
    public string? Subject { get; set; }

    /// <summary>When the user consented, UTC.</summary>
    public DateTimeOffset? CreationDate { get; set; }

    /// <summary>The scopes granted.</summary>
    public string[] Scopes { get; set; } = [];

    /// <summary><c>valid</c> or <c>revoked</c>.</summary>
    public string? Status { get; set; }

    /// <summary><c>permanent</c> (a consent the user gave) or <c>ad-hoc</c>.</summary>
    public string? Type { get; set; }

    /// <summary>Further properties as a JSON object, or null.</summary>
    public string? Properties { get; set; }

    /// <inheritdoc/>
    public string? ConcurrencyToken { get; set; } = Guid.NewGuid().ToString();
}

/// <summary>The storage of <see cref="OAuthAuthorization"/>: the user and the app as indexed columns (both are looked up).</summary>
internal sealed class OAuthAuthorizationMapping : IConfigureMarten
{
    public void Configure(IServiceProvider services, StoreOptions options) =>
        options.Schema.For<OAuthAuthorization>()
            .Duplicate(a => a.Subject!, configure: ix => ix.Name = "ix_oauth_authorization_subject")
            .Duplicate(a => a.ApplicationId!, configure: ix => ix.Name = "ix_oauth_authorization_application");
}

/// <summary>OpenIddict's authorization store on Marten (see <see cref="MartenStore{T}"/> for sessions and concurrency).</summary>
#pragma warning disable CS8714 // OpenIddict's query results may be nullable; Marten's LINQ extensions are annotated notnull only
internal sealed class MartenAuthorizationStore(IDocumentStore store) : MartenStore<OAuthAuthorization>(store), IOpenIddictAuthorizationStore<OAuthAuthorization>
{
    public async IAsyncEnumerable<OAuthAuthorization> FindAsync(
        string? subject, string? client, string? status, string? type, ImmutableArray<string>? scopes, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var applicationId = ParseId(client);
        if (client is not null && applicationId is null)
        {
            yield break;
        }

        await using var session = Store.QuerySession();
        var query = session.Query<OAuthAuthorization>().AsQueryable();
        if (subject is not null)
        {
            query = query.Where(a => a.Subject == subject);
        }

        if (applicationId is { } app)
        {
            query = query.Where(a => a.ApplicationId == app);
        }

        if (status is not null)
        {
            query = query.Where(a => a.Status == status);
        }

        if (type is not null)
        {
            query = query.Where(a => a.Type == type);
        }

        foreach (var authorization in await query.ToListAsync(cancellationToken))
        {
            if (scopes is not { } wanted || wanted.All(authorization.Scopes.Contains))
            {
                yield return authorization;
            }
        }
    }

    public IAsyncEnumerable<OAuthAuthorization> FindByApplicationIdAsync(string identifier, CancellationToken cancellationToken) =>
        ParseId(identifier) is { } id ? ListWhereAsync(a => a.ApplicationId == id, cancellationToken) : AsyncEnumerable.Empty<OAuthAuthorization>();

    public IAsyncEnumerable<OAuthAuthorization> FindBySubjectAsync(string subject, CancellationToken cancellationToken) =>
        ListWhereAsync(a => a.Subject == subject, cancellationToken);

    public ValueTask<string?> GetApplicationIdAsync(OAuthAuthorization authorization, CancellationToken cancellationToken) =>
        new(authorization.ApplicationId?.ToString());

    public ValueTask<DateTimeOffset?> GetCreationDateAsync(OAuthAuthorization authorization, CancellationToken cancellationToken) => new(authorization.CreationDate);

    public ValueTask<ImmutableDictionary<string, JsonElement>> GetPropertiesAsync(OAuthAuthorization authorization, CancellationToken cancellationToken) =>
        new(ReadProperties(authorization.Properties));

    public ValueTask<ImmutableArray<string>> GetScopesAsync(OAuthAuthorization authorization, CancellationToken cancellationToken) => new([.. authorization.Scopes]);

    public ValueTask<string?> GetStatusAsync(OAuthAuthorization authorization, CancellationToken cancellationToken) => new(authorization.Status);

    public ValueTask<string?> GetSubjectAsync(OAuthAuthorization authorization, CancellationToken cancellationToken) => new(authorization.Subject);

    public ValueTask<string?> GetTypeAsync(OAuthAuthorization authorization, CancellationToken cancellationToken) => new(authorization.Type);

    /// <summary>
    /// Deletes grants created before <paramref name="threshold"/> that no longer count: revoked ones, and ad-hoc ones
    /// without a token left (the rule of openiddict-core's own stores). Their tokens go with them.
    /// </summary>
    public async ValueTask<long> PruneAsync(DateTimeOffset threshold, CancellationToken cancellationToken)
    {
        await using var session = Store.LightweightSession();
        var candidates = await session.Query<OAuthAuthorization>()
            .Where(a => a.CreationDate < threshold && (a.Status != Statuses.Valid || a.Type == AuthorizationTypes.AdHoc))
            .Select(a => new { a.Id, a.Status })
            .ToListAsync(cancellationToken);
        var ids = candidates.Select(c => c.Id).ToArray();
        var withTokens = await session.Query<OAuthToken>()
            .Where(t => t.AuthorizationId != null && ids.Contains(t.AuthorizationId.Value))
            .Select(t => t.AuthorizationId!.Value)
            .Distinct()
            .ToListAsync(cancellationToken);
        var doomed = candidates.Where(c => c.Status != Statuses.Valid || !withTokens.Contains(c.Id)).Select(c => c.Id).ToArray();
        if (doomed.Length > 0)
        {
            session.DeleteWhere<OAuthToken>(t => t.AuthorizationId != null && doomed.Contains(t.AuthorizationId.Value));
            session.DeleteWhere<OAuthAuthorization>(a => doomed.Contains(a.Id));
            await session.SaveChangesAsync(cancellationToken);
        }

        return doomed.Length;
    }

    public ValueTask<long> RevokeAsync(string? subject, string? client, string? status, string? type, CancellationToken cancellationToken)
    {
        var applicationId = ParseId(client);
        if (client is not null && applicationId is null)
        {
            return new(0L);
        }

        return RevokeWhereAsync(a => a.Status != Statuses.Revoked
            && (subject == null || a.Subject == subject)
            && (applicationId == null || a.ApplicationId == applicationId)
            && (status == null || a.Status == status)
            && (type == null || a.Type == type), a => a.Status, cancellationToken);
    }

    public ValueTask<long> RevokeByApplicationIdAsync(string identifier, CancellationToken cancellationToken) =>
        ParseId(identifier) is { } id
            ? RevokeWhereAsync(a => a.Status != Statuses.Revoked && a.ApplicationId == id, a => a.Status, cancellationToken)
            : new(0L);

    public ValueTask<long> RevokeBySubjectAsync(string subject, CancellationToken cancellationToken) =>
        RevokeWhereAsync(a => a.Status != Statuses.Revoked && a.Subject == subject, a => a.Status, cancellationToken);

    public ValueTask SetApplicationIdAsync(OAuthAuthorization authorization, string? identifier, CancellationToken cancellationToken) =>
        Set(() => authorization.ApplicationId = ParseId(identifier));

    public ValueTask SetCreationDateAsync(OAuthAuthorization authorization, DateTimeOffset? date, CancellationToken cancellationToken) =>
        Set(() => authorization.CreationDate = date);

    public ValueTask SetPropertiesAsync(OAuthAuthorization authorization, ImmutableDictionary<string, JsonElement> properties, CancellationToken cancellationToken) =>
        Set(() => authorization.Properties = WriteProperties(properties));

    public ValueTask SetScopesAsync(OAuthAuthorization authorization, ImmutableArray<string> scopes, CancellationToken cancellationToken) =>
        Set(() => authorization.Scopes = [.. scopes]);

    public ValueTask SetStatusAsync(OAuthAuthorization authorization, string? status, CancellationToken cancellationToken) =>
        Set(() => authorization.Status = status);

    public ValueTask SetSubjectAsync(OAuthAuthorization authorization, string? subject, CancellationToken cancellationToken) =>
        Set(() => authorization.Subject = subject);

    public ValueTask SetTypeAsync(OAuthAuthorization authorization, string? type, CancellationToken cancellationToken) =>
        Set(() => authorization.Type = type);

    // A grant's tokens go with it.
    protected override void OnDelete(IDocumentSession session, Guid id) =>
        session.DeleteWhere<OAuthToken>(t => t.AuthorizationId == id);
}
#pragma warning restore CS8714
