using FastEndpoints;
using OpenIddict.Abstractions;
using SliceApi.Infrastructure.OpenApi;
using SliceApi.Infrastructure.Security;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace SliceApi.Features.OAuth;

/// <summary>The OAuth app slices: tagged <c>OAuth</c>; API keys cannot call them (no <c>CallableWithScope</c>).</summary>
internal sealed class OAuthGroup : Group
{
    /// <summary>The tag's place and description in the OpenAPI document.</summary>
    internal static readonly DocumentedTag Tag = new("OAuth", 5,
        "Third-party apps (OAuth 2.0 clients, RFC 6749) that users register, so the apps can later act for a user with the scopes the user grants.");

    public OAuthGroup() =>
        Configure("", ep => ep.Description(b => b.WithTags("OAuth").WithMetadata(Tag)));
}

/// <summary>The scopes an app may ask a user for.</summary>
internal static class OAuthScopes
{
    /// <summary>Every scope: the API-key scopes, <c>profile</c> and <c>offline_access</c> (a refresh token).</summary>
    public static readonly IReadOnlyList<string> All = [.. ApiScopes.Descriptions.Keys];
}

/// <summary>Registration of OpenIddict's core (managers) on the Marten stores of this feature.</summary>
internal static class OAuthSetup
{
    /// <summary>
    /// What every app may use: the authorization, token, device and revocation endpoints, the authorization code
    /// (with PKCE, RFC 7636, required: RFC 9700 section 2.1.1), refresh token and device code grants (RFC 8628), and
    /// every scope of <see cref="OAuthScopes.All"/>; never the implicit or password grant (RFC 9700 section 2.1.2, 2.4).
    /// </summary>
    public static OpenIddictApplicationDescriptor Describe(string name, string clientType, IEnumerable<Uri> redirectUris)
    {
        var descriptor = new OpenIddictApplicationDescriptor
        {
            ClientId = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16)),
            ClientType = clientType,
            ConsentType = ConsentTypes.Explicit,
            DisplayName = name,
            Requirements = { Requirements.Features.ProofKeyForCodeExchange },
        };
        var uris = redirectUris.ToList();
        descriptor.ApplicationType = OAuthAppRules.ApplicationTypeOf(uris);
        descriptor.RedirectUris.UnionWith(uris);
        descriptor.Permissions.UnionWith([
            Permissions.Endpoints.Authorization, Permissions.Endpoints.Token, Permissions.Endpoints.Revocation,
            Permissions.Endpoints.DeviceAuthorization, Permissions.GrantTypes.AuthorizationCode, Permissions.GrantTypes.RefreshToken,
            Permissions.GrantTypes.DeviceCode, Permissions.ResponseTypes.Code,
            .. OAuthScopes.All.Select(s => Permissions.Prefixes.Scope + s)]);
        return descriptor;
    }
}

/// <summary>An app as the API shows it; never carries the client secret.</summary>
/// <param name="Id">The app's id.</param>
/// <param name="ClientId">The <c>client_id</c> the app sends, 32 hex digits.</param>
/// <param name="Name">Shown to users on the consent page.</param>
/// <param name="ClientType"><c>public</c> (no secret: browser and native apps) or <c>confidential</c> (holds a secret).</param>
/// <param name="RedirectUris">The exact URIs the authorization step may send the user back to.</param>
/// <param name="OwnerId">The user who registered it.</param>
/// <param name="CreatedAt">UTC.</param>
public sealed record OAuthAppResponse(
    Guid Id,
    [property: System.ComponentModel.DataAnnotations.MaxLength(32)] string ClientId,
    [property: System.ComponentModel.DataAnnotations.MaxLength(100)] string Name,
    [property: System.ComponentModel.DataAnnotations.MaxLength(12)] string ClientType,
    [property: System.ComponentModel.DataAnnotations.MaxLength(OAuthAppRules.MaxRedirectUris)] Uri[] RedirectUris,
    Guid OwnerId,
    DateTimeOffset CreatedAt)
{
    internal static OAuthAppResponse From(OAuthApplication app) =>
        new(app.Id, app.ClientId!, app.DisplayName!, app.ClientType!, [.. app.RedirectUris.Order(StringComparer.Ordinal).Select(u => new Uri(u))], app.OwnerId, app.CreatedAt);
}
