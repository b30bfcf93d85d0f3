using System.Security.Claims;

namespace SliceApi.Infrastructure.Security;

/// <summary>
/// A rule every authenticated caller must pass on every request, once its credentials (an access token or an API key)
/// are valid; registered by the area that owns the rule (Features/Users: the account must be active, its role current).
/// A check may rewrite the principal's claims (the role).
/// </summary>
internal interface IPrincipalCheck
{
    /// <summary>Checks <paramref name="principal"/>.</summary>
    /// <returns>Null when the caller may proceed, or why not (the 401's reason).</returns>
    Task<string?> CheckAsync(ClaimsPrincipal principal, CancellationToken ct);
}

/// <summary>Runs the registered <see cref="IPrincipalCheck"/>s, for both authentication schemes.</summary>
internal static class PrincipalChecks
{
    /// <summary>The first refusal of the checks registered in <paramref name="services"/>, or null when all pass.</summary>
    public static async Task<string?> RunAsync(IServiceProvider services, ClaimsPrincipal principal, CancellationToken ct)
    {
        foreach (var check in services.GetServices<IPrincipalCheck>())
        {
            if (await check.CheckAsync(principal, ct) is { } refusal)
            {
                return refusal;
            }
        }

        return null;
    }
}
