using FastEndpoints;

namespace SliceApi.Features.Users;

/// <summary>The account slices: tagged <c>Users</c> in the OpenAPI document.</summary>
internal sealed class UsersGroup : Group
{
    public UsersGroup() => Configure("", ep => ep.Description(b => b.WithTags("Users")));
}
