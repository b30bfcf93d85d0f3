using FastEndpoints;
using SliceApi.Infrastructure.OpenApi;

namespace SliceApi.Features.Changes;

/// <summary>The <c>/api/v1/changes</c> endpoints, tagged <c>Changes</c> in the OpenAPI document.</summary>
internal sealed class ChangesGroup : Group
{
    /// <summary>The tag's place and description in the OpenAPI document.</summary>
    internal static readonly DocumentedTag Tag = new("Changes", 6,
        "Every change to the tasks the caller may see, in commit order: a feed to sync from with a cursor, and the same changes live as Server-Sent Events.");

    public ChangesGroup() =>
        Configure("", ep => ep.Description(b => b.WithTags("Changes").WithMetadata(Tag)));
}
