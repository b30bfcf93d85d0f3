using FastEndpoints;
using SliceApi.Infrastructure.OpenApi;

namespace SliceApi.Features.Auth;

/// <summary>The token slices: tagged <c>Auth</c>, anonymous (the credentials are in the body) and rate limited per client IP.</summary>
internal sealed class AuthGroup : Group
{
    /// <summary>The tag's place and description in the OpenAPI document.</summary>
    internal static readonly DocumentedTag Tag = new("Auth", 2,
        "Log in for an access token (JWT, 15 minutes) and a refresh token (14 days); rotate and revoke refresh tokens.");

    public AuthGroup() =>
        Configure("", ep => ep.Description(b => b.WithTags("Auth").WithMetadata(Tag)));
}
