using System.Security.Claims;

namespace SliceApi.Infrastructure.Security;

/// <summary>The claim names of an access token (RFC 7519 section 4.1, RFC 9068 section 2.2).</summary>
internal static class AccessTokenClaims
{
    /// <summary>The user id, a GUID.</summary>
    public const string Subject = "sub";

    /// <summary>The user's email address, lower-case.</summary>
    public const string Email = "email";

    /// <summary>One of <see cref="AppRoles"/>.</summary>
    public const string Role = "role";
}

/// <summary>Reads the caller's identity; slices call these instead of naming claims.</summary>
internal static class ClaimsPrincipalExtensions
{
    /// <summary>The caller's user id from the <c>sub</c> claim.</summary>
    /// <exception cref="InvalidOperationException">The principal is not an authenticated user (an endpoint that allows anonymous callers asked).</exception>
    public static Guid GetUserId(this ClaimsPrincipal user) =>
        Guid.TryParse(user.FindFirstValue(AccessTokenClaims.Subject), out var id)
            ? id
            : throw new InvalidOperationException("The caller has no valid 'sub' claim.");

    /// <summary>Whether the caller holds the <c>admin</c> role.</summary>
    public static bool IsAdmin(this ClaimsPrincipal user) => user.IsInRole(AppRoles.Admin);
}
