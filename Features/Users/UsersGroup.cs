using FastEndpoints;
using SliceApi.Infrastructure.OpenApi;

namespace SliceApi.Features.Users;

/// <summary>The account slices: tagged <c>Users</c> in the OpenAPI document.</summary>
internal sealed class UsersGroup : Group
{
    /// <summary>The tag's place and description in the OpenAPI document.</summary>
    internal static readonly DocumentedTag Tag = new("Users", 1,
        "Registration, the caller's account and, for admins, every account.");

    public UsersGroup() =>
        Configure("", ep => ep.Description(b => b.WithTags("Users").WithMetadata(Tag)));
}
