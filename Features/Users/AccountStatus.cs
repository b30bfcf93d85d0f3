using System.Security.Claims;
using Microsoft.Extensions.Caching.Memory;
using SliceApi.Infrastructure.Security;

namespace SliceApi.Features.Users;

/// <summary>An account's current state: whether it may act, its role now (which may differ from its token's), and since when its tokens count.</summary>
/// <param name="IsActive">False once deactivated.</param>
/// <param name="Role">One of <see cref="AppRoles"/>.</param>
/// <param name="TokensValidAfter">Access tokens issued before this (UTC; a password change) are refused; null: all count.</param>
internal sealed record AccountStatus(bool IsActive, string Role, DateTimeOffset? TokensValidAfter = null);

/// <summary>Looks up an account's state (<see cref="UserAccountStatusSource"/> reads the user document; benchmarks put a stand-in here).</summary>
internal interface IAccountStatusSource
{
    /// <summary>The account's state, or null when it does not exist.</summary>
    Task<AccountStatus?> FindAsync(Guid userId, CancellationToken ct);
}

/// <summary>
/// Applies account changes to access tokens already issued: every authenticated request checks the caller's
/// current state, remembered per user for <see cref="MaxAge"/>. A deactivated or deleted account is refused
/// (401) and a changed role replaces the token's role claim, so old rights end within <see cref="MaxAge"/>
/// on every instance, at once on the instance that made the change (<see cref="Forget"/>) and within milliseconds on
/// the others, which a revocation message tells to forget the account (<see cref="Revocations"/>). An access token
/// issued (<c>iat</c>, whole seconds) before the second of the account's last password change is refused. Cost: one
/// primary-key read per active user per <see cref="MaxAge"/> per instance, and a memory lookup per request.
/// </summary>
internal sealed class AccountStatusCheck(IServiceScopeFactory scopes) : IPrincipalCheck, IRevocationSubscriber, IDisposable
{
    /// <summary>How long a looked-up state is trusted (30 seconds).</summary>
    public static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(30);

    private readonly MemoryCache cache = new(new MemoryCacheOptions { SizeLimit = 100_000 });

    /// <summary>
    /// Checks <paramref name="principal"/>'s account and rewrites its role claim to the current role.
    /// </summary>
    /// <returns>Null when the caller may proceed, or why it may not.</returns>
    public async Task<string?> CheckAsync(ClaimsPrincipal principal, CancellationToken ct)
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

        if (status.TokensValidAfter is { } validAfter && long.TryParse(principal.FindFirstValue("iat"), out var issuedAt)
            && issuedAt < validAfter.ToUnixTimeSeconds())
        {
            return "The access token was issued before the password was changed; log in again.";
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

    /// <summary>Forgets an account a revocation message names.</summary>
    public void Revoked(string kind, string id)
    {
        if (kind == Revocations.Account && Guid.TryParse(id, out var userId))
        {
            Forget(userId);
        }
    }

    /// <summary>Forgets every account.</summary>
    public void ForgetAll() => cache.Clear();

    public void Dispose() => cache.Dispose();
}
