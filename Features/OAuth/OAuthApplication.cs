using System.Collections.Immutable;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Marten;
using Microsoft.IdentityModel.Tokens;
using OpenIddict.Abstractions;
using OpenIddict.Core;
using SliceApi.Infrastructure.Data;

namespace SliceApi.Features.OAuth;

/// <summary>
/// A third-party app (an OAuth 2.0 client, RFC 6749 section 2) as stored, a Marten document (table
/// <c>mt_doc_oauthapplication</c>): OpenIddict's application entity, plus the user who registered it. The client
/// secret is stored only as OpenIddict's hash (PBKDF2), never as sent.
/// </summary>
public sealed class OAuthApplication : IOAuthDocument
{
    /// <summary>The app's id, a version-7 GUID (the route id of <c>/api/v1/oauth/apps/{id}</c>).</summary>
    public Guid Id { get; set; }

    /// <summary>The user who registered the app and may change or delete it.</summary>
    public Guid OwnerId { get; set; }

    /// <summary>UTC.</summary>
    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>The <c>client_id</c> apps send, 32 lower-case hex digits.</summary>
    public string? ClientId { get; set; }

    /// <summary>OpenIddict's hash of the client secret (confidential apps), or null.</summary>
    public string? ClientSecret { get; set; }

    /// <summary><c>public</c> or <c>confidential</c> (RFC 6749 section 2.1).</summary>
    public string? ClientType { get; set; }

    /// <summary>OpenIddict's application type (<c>web</c> or <c>native</c>), or null.</summary>
    public string? ApplicationType { get; set; }

    /// <summary>OpenIddict's consent type: <c>explicit</c> (the user is always asked).</summary>
    public string? ConsentType { get; set; }

    /// <summary>The app's name, shown on the consent page, 1 to 100 characters.</summary>
    public string? DisplayName { get; set; }

    /// <summary>Localized names by culture name (unused by the API, kept for OpenIddict).</summary>
    public Dictionary<string, string> DisplayNames { get; set; } = [];

    /// <summary>The app's JSON Web Key Set as JSON (for private_key_jwt; unused by the API), or null.</summary>
    public string? JsonWebKeySet { get; set; }

    /// <summary>OpenIddict permissions: endpoints, grant types, response types and scopes the app may use.</summary>
    public string[] Permissions { get; set; } = [];

    /// <summary>Where the app may be sent after logout (unused by the API).</summary>
    public string[] PostLogoutRedirectUris { get; set; } = [];

    /// <summary>The exact redirect URIs the app registered (RFC 9700 section 4.1.1: matched exactly).</summary>
    public string[] RedirectUris { get; set; } = [];

    /// <summary>OpenIddict requirements, e.g. <c>ft:pkce</c> (PKCE required).</summary>
    public string[] Requirements { get; set; } = [];

    /// <summary>OpenIddict settings (token lifetimes per app; unused by the API).</summary>
    public Dictionary<string, string> Settings { get; set; } = [];

    /// <summary>Further properties as a JSON object, or null.</summary>
    public string? Properties { get; set; }

    /// <summary>Changes on every write; OpenIddict's optimistic concurrency check compares it.</summary>
    public string? ConcurrencyToken { get; set; } = Guid.NewGuid().ToString();

    /// <summary>The most apps one user may register (OWASP API4:2023, unrestricted resource consumption).</summary>
    public const int MaxPerUser = 25;
}

/// <summary>
/// The storage of <see cref="OAuthApplication"/>: a unique index on <c>client_id</c> (every token request looks it up),
/// the owner as a column with a foreign key that deletes a user's apps with the user.
/// </summary>
internal sealed class OAuthApplicationMapping : IConfigureMarten
{
    public void Configure(IServiceProvider services, StoreOptions options) =>
        options.Schema.For<OAuthApplication>()
            .Duplicate(a => a.ClientId!, configure: ix => { ix.IsUnique = true; ix.Name = "ux_oauth_application_client_id"; })
#pragma warning disable CS0618 // Weasel 9.49's ForeignKey.OnDelete still has the type it marks obsolete
            .ForeignKey<SliceApi.Features.Users.User>(a => a.OwnerId, fk => fk.OnDelete = Weasel.Postgresql.CascadeAction.Cascade);
#pragma warning restore CS0618
}

/// <summary>
/// OpenIddict's application store on Marten: OpenIddict's application manager (secret hashing, validation of redirect
/// URIs and client types) reads and writes <see cref="OAuthApplication"/> documents through it. Each write saves at once
/// in its own session, as OpenIddict expects; updates and deletes lock the row and compare the concurrency token, so a
/// change made meanwhile is an <see cref="OpenIddictExceptions.ConcurrencyException"/>, never lost.
/// </summary>
internal sealed class MartenApplicationStore(IDocumentStore store) : MartenStore<OAuthApplication>(store), IOpenIddictApplicationStore<OAuthApplication>
{
    public async ValueTask<OAuthApplication?> FindByClientIdAsync(string identifier, CancellationToken cancellationToken)
    {
        await using var session = Store.QuerySession();
        return await session.Query<OAuthApplication>().FirstOrDefaultAsync(a => a.ClientId == identifier, cancellationToken);
    }

    public IAsyncEnumerable<OAuthApplication> FindByPostLogoutRedirectUriAsync(string uri, CancellationToken cancellationToken) =>
        ListWhereAsync(a => a.PostLogoutRedirectUris.Contains(uri), cancellationToken);

    public IAsyncEnumerable<OAuthApplication> FindByRedirectUriAsync(string uri, CancellationToken cancellationToken) =>
        ListWhereAsync(a => a.RedirectUris.Contains(uri), cancellationToken);

    public ValueTask<string?> GetApplicationTypeAsync(OAuthApplication application, CancellationToken cancellationToken) => new(application.ApplicationType);

    public ValueTask<string?> GetClientIdAsync(OAuthApplication application, CancellationToken cancellationToken) => new(application.ClientId);

    public ValueTask<string?> GetClientSecretAsync(OAuthApplication application, CancellationToken cancellationToken) => new(application.ClientSecret);

    public ValueTask<string?> GetClientTypeAsync(OAuthApplication application, CancellationToken cancellationToken) => new(application.ClientType);

    public ValueTask<string?> GetConsentTypeAsync(OAuthApplication application, CancellationToken cancellationToken) => new(application.ConsentType);

    public ValueTask<string?> GetDisplayNameAsync(OAuthApplication application, CancellationToken cancellationToken) => new(application.DisplayName);

    public ValueTask<ImmutableDictionary<CultureInfo, string>> GetDisplayNamesAsync(OAuthApplication application, CancellationToken cancellationToken) =>
        new(application.DisplayNames.ToImmutableDictionary(p => CultureInfo.GetCultureInfo(p.Key), p => p.Value));

    public ValueTask<JsonWebKeySet?> GetJsonWebKeySetAsync(OAuthApplication application, CancellationToken cancellationToken) =>
        new(application.JsonWebKeySet is { } json ? JsonWebKeySet.Create(json) : null);

    public ValueTask<ImmutableArray<string>> GetPermissionsAsync(OAuthApplication application, CancellationToken cancellationToken) => new([.. application.Permissions]);

    public ValueTask<ImmutableArray<string>> GetPostLogoutRedirectUrisAsync(OAuthApplication application, CancellationToken cancellationToken) =>
        new([.. application.PostLogoutRedirectUris]);

    public ValueTask<ImmutableDictionary<string, JsonElement>> GetPropertiesAsync(OAuthApplication application, CancellationToken cancellationToken) =>
        new(ReadProperties(application.Properties));

    public ValueTask<ImmutableArray<string>> GetRedirectUrisAsync(OAuthApplication application, CancellationToken cancellationToken) => new([.. application.RedirectUris]);

    public ValueTask<ImmutableArray<string>> GetRequirementsAsync(OAuthApplication application, CancellationToken cancellationToken) => new([.. application.Requirements]);

    public ValueTask<ImmutableDictionary<string, string>> GetSettingsAsync(OAuthApplication application, CancellationToken cancellationToken) =>
        new(application.Settings.ToImmutableDictionary());

    public ValueTask SetApplicationTypeAsync(OAuthApplication application, string? type, CancellationToken cancellationToken) => Set(() => application.ApplicationType = type);

    public ValueTask SetClientIdAsync(OAuthApplication application, string? identifier, CancellationToken cancellationToken) => Set(() => application.ClientId = identifier);

    public ValueTask SetClientSecretAsync(OAuthApplication application, string? secret, CancellationToken cancellationToken) => Set(() => application.ClientSecret = secret);

    public ValueTask SetClientTypeAsync(OAuthApplication application, string? type, CancellationToken cancellationToken) => Set(() => application.ClientType = type);

    public ValueTask SetConsentTypeAsync(OAuthApplication application, string? type, CancellationToken cancellationToken) => Set(() => application.ConsentType = type);

    public ValueTask SetDisplayNameAsync(OAuthApplication application, string? name, CancellationToken cancellationToken) => Set(() => application.DisplayName = name);

    public ValueTask SetDisplayNamesAsync(OAuthApplication application, ImmutableDictionary<CultureInfo, string> names, CancellationToken cancellationToken) =>
        Set(() => application.DisplayNames = names.ToDictionary(p => p.Key.Name, p => p.Value));

    public ValueTask SetJsonWebKeySetAsync(OAuthApplication application, JsonWebKeySet? set, CancellationToken cancellationToken) =>
        Set(() => application.JsonWebKeySet = set is null ? null : JsonSerializer.Serialize(set));

    public ValueTask SetPermissionsAsync(OAuthApplication application, ImmutableArray<string> permissions, CancellationToken cancellationToken) =>
        Set(() => application.Permissions = [.. permissions]);

    public ValueTask SetPostLogoutRedirectUrisAsync(OAuthApplication application, ImmutableArray<string> uris, CancellationToken cancellationToken) =>
        Set(() => application.PostLogoutRedirectUris = [.. uris]);

    public ValueTask SetPropertiesAsync(OAuthApplication application, ImmutableDictionary<string, JsonElement> properties, CancellationToken cancellationToken) =>
        Set(() => application.Properties = WriteProperties(properties));

    public ValueTask SetRedirectUrisAsync(OAuthApplication application, ImmutableArray<string> uris, CancellationToken cancellationToken) =>
        Set(() => application.RedirectUris = [.. uris]);

    public ValueTask SetRequirementsAsync(OAuthApplication application, ImmutableArray<string> requirements, CancellationToken cancellationToken) =>
        Set(() => application.Requirements = [.. requirements]);

    public ValueTask SetSettingsAsync(OAuthApplication application, ImmutableDictionary<string, string> settings, CancellationToken cancellationToken) =>
        Set(() => application.Settings = new Dictionary<string, string>(settings));

    // An app's grants and tokens go with it (openiddict-core's own stores do the same), in the deleting transaction:
    // tokens are checked against their stored entry on every use, so they stop working when the app is deleted.
    protected override void OnDelete(IDocumentSession session, Guid id)
    {
        session.DeleteWhere<OAuthToken>(t => t.ApplicationId == id);
        session.DeleteWhere<OAuthAuthorization>(a => a.ApplicationId == id);
    }
}
