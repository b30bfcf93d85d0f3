using FastEndpoints;

namespace SliceApi.Features.Auth;

/// <summary>The token slices: tagged <c>Auth</c>, anonymous (the credentials are in the body) and rate limited per client IP.</summary>
internal sealed class AuthGroup : Group
{
    public AuthGroup() => Configure("", ep => ep.Description(b => b.WithTags("Auth")));
}
