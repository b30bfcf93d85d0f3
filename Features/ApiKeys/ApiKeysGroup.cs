using FastEndpoints;

namespace SliceApi.Features.ApiKeys;

/// <summary>The API key slices: tagged <c>ApiKeys</c>; keys themselves cannot call them (no <c>ApiKeyScope</c>).</summary>
internal sealed class ApiKeysGroup : Group
{
    public ApiKeysGroup() => Configure("", ep => ep.Description(b => b.WithTags("ApiKeys")));
}
