using System.Security.Claims;
using Microsoft.Extensions.Caching.Memory;

namespace SliceApi.Infrastructure.Security;

/// <summary>An account's current state: whether it may act, and its role now (which may differ from its token's).</summary>
/// <param name="IsActive">False once deactivated.</param>
/// <param name="Role">One of <see cref="AppRoles"/>.</param>
internal sealed record AccountStatus(bool IsActive, string Role);

/// <summary>Looks up an account's state; implemented by the area that owns accounts (Features/Users), found by assembly scan.</summary>
internal interface IAccountStatusSource
{
    /// <summary>The account's state, or null when it does not exist.</summary>
    Task<AccountStatus?> FindAsync(Guid userId, CancellationToken ct);
}

/// <summary>
/// Applies account changes to access tokens already issued: every authenticated request checks the caller's
/// current state, remembered per user for <see cref="MaxAge"/>. A deactivated or deleted account is refused
/// (401) and a changed role replaces the token's role claim, so old rights end within <see cref="MaxAge"/>
/// on every instance, at once on the instance that made the change (<see cref="Forget"/>). Cost: one primary-key
/// read per active user per <see cref="MaxAge"/> per instance, and a memory lookup per request.
/// </summary>
internal sealed class AccountStatusCheck(IServiceScopeFactory scopes) : IDisposable
{
    /// <summary>How long a looked-up state is trusted (30 seconds).</summary>
    public static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(30);

    private readonly MemoryCache cache = new(new MemoryCacheOptions { SizeLimit = 100_000 });

    /// <summary>
    /// Checks <paramref name="principal"/>'s account and rewrites its role claim to the current role.
    /// </summary>
    /// <returns>Null when the caller may proceed, or why it may not.</returns>
    public async Task<string?> ApplyAsync(ClaimsPrincipal principal, CancellationToken ct)
    {
        if (!Guid.TryParse(principal.FindFirstValue(AccessTokenClaims.Subject), out var userId))
        {
            return "The access token has no valid subject.";
        }

        if (!cache.TryGetValue(userId, out AccountStatus? status))
        {
            await using var scope = scopes.CreateAsyncScope();
            status = await scope.ServiceProvider.GetRequiredService<IAccountStatusSource>().FindAsync(userId, ct);
            cache.Set(userId, status, new MemoryCacheEntryOptions { AbsoluteExpirationRelativeToNow = MaxAge, Size = 1 });
        }

        if (status is not { IsActive: true })
        {
            return "The account is deactivated or deleted.";
        }

        if (principal.Identity is ClaimsIdentity identity && principal.FindFirstValue(AccessTokenClaims.Role) != status.Role)
        {
            foreach (var stale in identity.FindAll(AccessTokenClaims.Role).ToList())
            {
                identity.RemoveClaim(stale);
            }

            identity.AddClaim(new Claim(AccessTokenClaims.Role, status.Role));
        }

        return null;
    }

    /// <summary>Drops the remembered state of an account after changing it, so this instance sees the change at once.</summary>
    public void Forget(Guid userId) => cache.Remove(userId);

    public void Dispose() => cache.Dispose();

    /// <summary>Registers the check and the one <see cref="IAccountStatusSource"/> of the assembly.</summary>
    public static void Register(IServiceCollection services)
    {
        services.AddScoped(typeof(IAccountStatusSource), SecuritySetup.SingleImplementationOf<IAccountStatusSource>());
        services.AddSingleton<AccountStatusCheck>();
    }
}
