using System.Collections.Immutable;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Marten;
using OpenIddict.Abstractions;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace SliceApi.Features.OAuth;

/// <summary>
/// The stored entry of a token OpenIddict issued to an app (an authorization code, access token, refresh token or
/// device code), a Marten document (table <c>mt_doc_oauthtoken</c>). Not the token itself: its status, which every use
/// checks, so a revoked or redeemed token stops working at once on every instance.
/// </summary>
public sealed class OAuthToken : IOAuthDocument
{
    /// <summary>The entry's id, a version-7 GUID (the token's <c>oi_tkn_id</c> claim).</summary>
    public Guid Id { get; set; }

    /// <summary>The app it was issued to.</summary>
    public Guid? ApplicationId { get; set; }

    /// <summary>The grant it was issued under.</summary>
    public Guid? AuthorizationId { get; set; }

    /// <summary>The user it acts for, their id as a string.</summary>
    public string? Subject { get; set; }

    /// <summary>UTC.</summary>
    public DateTimeOffset? CreationDate { get; set; }

    /// <summary>UTC.</summary>
    public DateTimeOffset? ExpirationDate { get; set; }

    /// <summary>When it was used up (an authorization code exchanged, a refresh token rotated), UTC.</summary>
    public DateTimeOffset? RedemptionDate { get; set; }

    /// <summary>The token's text for reference tokens (not used: SliceApi's app tokens are self-contained), else null.</summary>
    public string? Payload { get; set; }

    /// <summary>Further properties as a JSON object, or null.</summary>
    public string? Properties { get; set; }

    /// <summary>The hashed reference of a reference token, or null.</summary>
    public string? ReferenceId { get; set; }

    /// <summary><c>valid</c>, <c>inactive</c>, <c>redeemed</c>, <c>rejected</c> or <c>revoked</c>.</summary>
    public string? Status { get; set; }

    /// <summary>The token type, e.g. <c>authorization_code</c>, <c>access_token</c>, <c>refresh_token</c>.</summary>
    public string? Type { get; set; }

    /// <inheritdoc/>
    public string? ConcurrencyToken { get; set; } = Guid.NewGuid().ToString();
}

/// <summary>The storage of <see cref="OAuthToken"/>: the grant, the user and the app as indexed columns, the reference unique.</summary>
internal sealed class OAuthTokenMapping : IConfigureMarten
{
    public void Configure(IServiceProvider services, StoreOptions options) =>
        options.Schema.For<OAuthToken>()
            .Duplicate(t => t.AuthorizationId!, configure: ix => ix.Name = "ix_oauth_token_authorization")
            .Duplicate(t => t.Subject!, configure: ix => ix.Name = "ix_oauth_token_subject")
            .Duplicate(t => t.ApplicationId!, configure: ix => ix.Name = "ix_oauth_token_application")
            .Duplicate(t => t.ReferenceId!, configure: ix => { ix.IsUnique = true; ix.Name = "ux_oauth_token_reference"; });
}

/// <summary>OpenIddict's token store on Marten (see <see cref="MartenStore{T}"/> for sessions and concurrency).</summary>
#pragma warning disable CS8714 // OpenIddict's query results may be nullable; Marten's LINQ extensions are annotated notnull only
internal sealed class MartenTokenStore(IDocumentStore store) : MartenStore<OAuthToken>(store), IOpenIddictTokenStore<OAuthToken>
{
    public async IAsyncEnumerable<OAuthToken> FindAsync(
        string? subject, string? client, string? status, string? type, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var applicationId = ParseId(client);
        if (client is not null && applicationId is null)
        {
            yield break;
        }

        await foreach (var token in ListWhereAsync(t => (subject == null || t.Subject == subject)
            && (applicationId == null || t.ApplicationId == applicationId)
            && (status == null || t.Status == status)
            && (type == null || t.Type == type), cancellationToken))
        {
            yield return token;
        }
    }

    public IAsyncEnumerable<OAuthToken> FindByApplicationIdAsync(string identifier, CancellationToken cancellationToken) =>
        ParseId(identifier) is { } id ? ListWhereAsync(t => t.ApplicationId == id, cancellationToken) : AsyncEnumerable.Empty<OAuthToken>();

    public IAsyncEnumerable<OAuthToken> FindByAuthorizationIdAsync(string identifier, CancellationToken cancellationToken) =>
        ParseId(identifier) is { } id ? ListWhereAsync(t => t.AuthorizationId == id, cancellationToken) : AsyncEnumerable.Empty<OAuthToken>();

    public async ValueTask<OAuthToken?> FindByReferenceIdAsync(string identifier, CancellationToken cancellationToken)
    {
        await using var session = Store.QuerySession();
        return await session.Query<OAuthToken>().FirstOrDefaultAsync(t => t.ReferenceId == identifier, cancellationToken);
    }

    public IAsyncEnumerable<OAuthToken> FindBySubjectAsync(string subject, CancellationToken cancellationToken) =>
        ListWhereAsync(t => t.Subject == subject, cancellationToken);

    public ValueTask<string?> GetApplicationIdAsync(OAuthToken token, CancellationToken cancellationToken) => new(token.ApplicationId?.ToString());

    public ValueTask<string?> GetAuthorizationIdAsync(OAuthToken token, CancellationToken cancellationToken) => new(token.AuthorizationId?.ToString());

    public ValueTask<DateTimeOffset?> GetCreationDateAsync(OAuthToken token, CancellationToken cancellationToken) => new(token.CreationDate);

    public ValueTask<DateTimeOffset?> GetExpirationDateAsync(OAuthToken token, CancellationToken cancellationToken) => new(token.ExpirationDate);

    public ValueTask<string?> GetPayloadAsync(OAuthToken token, CancellationToken cancellationToken) => new(token.Payload);

    public ValueTask<ImmutableDictionary<string, JsonElement>> GetPropertiesAsync(OAuthToken token, CancellationToken cancellationToken) =>
        new(ReadProperties(token.Properties));

    public ValueTask<DateTimeOffset?> GetRedemptionDateAsync(OAuthToken token, CancellationToken cancellationToken) => new(token.RedemptionDate);

    public ValueTask<string?> GetReferenceIdAsync(OAuthToken token, CancellationToken cancellationToken) => new(token.ReferenceId);

    public ValueTask<string?> GetStatusAsync(OAuthToken token, CancellationToken cancellationToken) => new(token.Status);

    public ValueTask<string?> GetSubjectAsync(OAuthToken token, CancellationToken cancellationToken) => new(token.Subject);

    public ValueTask<string?> GetTypeAsync(OAuthToken token, CancellationToken cancellationToken) => new(token.Type);

    /// <summary>
    /// Deletes entries created before <paramref name="threshold"/> that can no longer be used: not valid or inactive any
    /// more, or expired (the rule of openiddict-core's own stores, less its join on the grant: a revoked grant's tokens
    /// are revoked with it).
    /// </summary>
    public async ValueTask<long> PruneAsync(DateTimeOffset threshold, CancellationToken cancellationToken)
    {
        var now = DateTimeOffset.UtcNow;
        System.Linq.Expressions.Expression<Func<OAuthToken, bool>> unusable =
            t => t.CreationDate < threshold && ((t.Status != Statuses.Inactive && t.Status != Statuses.Valid) || t.ExpirationDate < now);
        await using var session = Store.LightweightSession();
        var count = await session.Query<OAuthToken>().Where(unusable).LongCountAsync(cancellationToken);
        session.DeleteWhere(unusable);
        await session.SaveChangesAsync(cancellationToken);
        return count;
    }

    public ValueTask<long> RevokeAsync(string? subject, string? client, string? status, string? type, CancellationToken cancellationToken)
    {
        var applicationId = ParseId(client);
        if (client is not null && applicationId is null)
        {
            return new(0L);
        }

        return RevokeWhereAsync(t => t.Status != Statuses.Revoked
            && (subject == null || t.Subject == subject)
            && (applicationId == null || t.ApplicationId == applicationId)
            && (status == null || t.Status == status)
            && (type == null || t.Type == type), t => t.Status, cancellationToken);
    }

    public ValueTask<long> RevokeByApplicationIdAsync(string identifier, CancellationToken cancellationToken) =>
        ParseId(identifier) is { } id ? RevokeWhereAsync(t => t.Status != Statuses.Revoked && t.ApplicationId == id, t => t.Status, cancellationToken) : new(0L);

    public ValueTask<long> RevokeByAuthorizationIdAsync(string identifier, CancellationToken cancellationToken) =>
        ParseId(identifier) is { } id ? RevokeWhereAsync(t => t.Status != Statuses.Revoked && t.AuthorizationId == id, t => t.Status, cancellationToken) : new(0L);

    public ValueTask<long> RevokeBySubjectAsync(string subject, CancellationToken cancellationToken) =>
        RevokeWhereAsync(t => t.Status != Statuses.Revoked && t.Subject == subject, t => t.Status, cancellationToken);

    public ValueTask SetApplicationIdAsync(OAuthToken token, string? identifier, CancellationToken cancellationToken) => Set(() => token.ApplicationId = ParseId(identifier));

    public ValueTask SetAuthorizationIdAsync(OAuthToken token, string? identifier, CancellationToken cancellationToken) => Set(() => token.AuthorizationId = ParseId(identifier));

    public ValueTask SetCreationDateAsync(OAuthToken token, DateTimeOffset? date, CancellationToken cancellationToken) => Set(() => token.CreationDate = date);

    public ValueTask SetExpirationDateAsync(OAuthToken token, DateTimeOffset? date, CancellationToken cancellationToken) => Set(() => token.ExpirationDate = date);

    public ValueTask SetPayloadAsync(OAuthToken token, string? payload, CancellationToken cancellationToken) => Set(() => token.Payload = payload);

    public ValueTask SetPropertiesAsync(OAuthToken token, ImmutableDictionary<string, JsonElement> properties, CancellationToken cancellationToken) =>
        Set(() => token.Properties = WriteProperties(properties));

    public ValueTask SetRedemptionDateAsync(OAuthToken token, DateTimeOffset? date, CancellationToken cancellationToken) => Set(() => token.RedemptionDate = date);

    public ValueTask SetReferenceIdAsync(OAuthToken token, string? identifier, CancellationToken cancellationToken) => Set(() => token.ReferenceId = identifier);

    public ValueTask SetStatusAsync(OAuthToken token, string? status, CancellationToken cancellationToken) => Set(() => token.Status = status);

    public ValueTask SetSubjectAsync(OAuthToken token, string? subject, CancellationToken cancellationToken) => Set(() => token.Subject = subject);

    public ValueTask SetTypeAsync(OAuthToken token, string? type, CancellationToken cancellationToken) => Set(() => token.Type = type);
}
#pragma warning restore CS8714
