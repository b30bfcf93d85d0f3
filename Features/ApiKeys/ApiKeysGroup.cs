using FastEndpoints;
using SliceApi.Infrastructure.OpenApi;

namespace SliceApi.Features.ApiKeys;

/// <summary>The API key slices: tagged <c>ApiKeys</c>; keys themselves cannot call them (no <c>CallableWithScope</c>).</summary>
internal sealed class ApiKeysGroup : Group
{
    /// <summary>The tag's place and description in the OpenAPI document.</summary>
    internal static readonly DocumentedTag Tag = new("ApiKeys", 4,
        "Long-lived keys with scopes (tasks:read, tasks:write) for scripts and integrations, sent as X-Api-Key.");

    public ApiKeysGroup() =>
        Configure("", ep => ep.Description(b => b.WithTags("ApiKeys").WithMetadata(Tag)));
}
