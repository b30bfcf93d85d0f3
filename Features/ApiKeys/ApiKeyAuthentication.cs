using System.Security.Claims;
using System.Text.Encodings.Web;
using Marten;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;
using SliceApi.Infrastructure.Security;

namespace SliceApi.Features.ApiKeys;

/// <summary>A stored API key as authentication needs it.</summary>
/// <param name="Id">The key's id.</param>
/// <param name="OwnerId">The user the key acts as.</param>
/// <param name="Scopes">What the key may do (<see cref="ApiScopes"/>).</param>
/// <param name="ExpiresAt">When it stops working (UTC), or null.</param>
/// <param name="Revoked">Whether it was revoked.</param>
internal sealed record ApiKeyGrant(Guid Id, Guid OwnerId, IReadOnlyList<string> Scopes, DateTimeOffset? ExpiresAt, bool Revoked);

/// <summary>
/// Authenticates <c>X-Api-Key: &lt;key&gt;</c> (scheme <see cref="ApiKeyScheme.Name"/>) as the key's owner, with the owner's
/// current role and one <c>scope</c> claim per granted scope. The key is found by the SHA-256 of its text; lookups are
/// remembered for 30 seconds per key (revocation is immediate on the instance that revoked, see
/// <see cref="ApiKeyCache.Forget"/>); the owner then passes the same <see cref="IPrincipalCheck"/>s as an access token's
/// (the account must be active; its current role applies). Which endpoints accept keys, and with which scope, is Infrastructure's <see cref="ApiScopes"/>.
/// </summary>
internal sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder,
    IServiceScopeFactory scopes, ApiKeyCache cache, TimeProvider clock)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var key = Request.Headers[ApiKeyScheme.Header].ToString();
        if (key.Length == 0)
        {
            return AuthenticateResult.NoResult();
        }

        var hash = System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(key));
        var grant = await cache.GetOrLookUpAsync(hash, async () =>
        {
            await using var scope = scopes.CreateAsyncScope();
            var text = ApiKey.HashText(hash);
            var stored = await scope.ServiceProvider.GetRequiredService<IQuerySession>().Query<ApiKey>()
                .FirstOrDefaultAsync(k => k.KeyHash == text, Context.RequestAborted);
            return stored is null ? null : new ApiKeyGrant(stored.Id, stored.OwnerId, stored.Scopes, stored.ExpiresAt, stored.RevokedAt != null);
        });
        if (grant is null || grant.Revoked || grant.ExpiresAt <= clock.GetUtcNow())
        {
            return AuthenticateResult.Fail("The API key is unknown, expired or revoked.");
        }

        var identity = new ClaimsIdentity(ApiKeyScheme.Name, AccessTokenClaims.Subject, AccessTokenClaims.Role);
        identity.AddClaim(new Claim(AccessTokenClaims.Subject, grant.OwnerId.ToString()));
        identity.AddClaim(new Claim(ApiKeyScheme.KeyIdClaim, grant.Id.ToString()));
        identity.AddClaims(grant.Scopes.Select(s => new Claim(ApiScopes.ClaimType, s)));
        var principal = new ClaimsPrincipal(identity);
        if (await PrincipalChecks.RunAsync(Context.RequestServices, principal, Context.RequestAborted) is { } refusal)
        {
            return AuthenticateResult.Fail(refusal);
        }

        return AuthenticateResult.Success(new AuthenticationTicket(principal, ApiKeyScheme.Name));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = $"{ApiKeyScheme.Name} header=\"{ApiKeyScheme.Header}\"";
        return Task.CompletedTask;
    }
}

/// <summary>
/// Remembers API key lookups for 30 seconds; <see cref="Forget"/> drops one after a revocation, on this instance at once
/// and on the others when the revocation message (<see cref="Revocations.ApiKey"/>) arrives.
/// </summary>
internal sealed class ApiKeyCache : IRevocationSubscriber, IDisposable
{
    /// <summary>How long a looked-up key is trusted (30 seconds).</summary>
    public static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(30);

    private readonly MemoryCache cache = new(new MemoryCacheOptions { SizeLimit = 10_000 });

    /// <summary>The remembered grant for a key hash, or the result of <paramref name="lookUp"/>.</summary>
    public async Task<ApiKeyGrant?> GetOrLookUpAsync(byte[] keyHash, Func<Task<ApiKeyGrant?>> lookUp)
    {
        var key = Convert.ToBase64String(keyHash);
        if (cache.TryGetValue(key, out ApiKeyGrant? grant))
        {
            return grant;
        }

        grant = await lookUp();
        cache.Set(key, grant, new MemoryCacheEntryOptions { AbsoluteExpirationRelativeToNow = MaxAge, Size = 1 });
        return grant;
    }

    /// <summary>Forgets a key (by the hash of its text) so a revocation takes effect at once on this instance.</summary>
    public void Forget(byte[] keyHash) => cache.Remove(Convert.ToBase64String(keyHash));

    /// <summary>Forgets a key a revocation message names by its hash in hex.</summary>
    public void Revoked(string kind, string id)
    {
        if (kind == Revocations.ApiKey && id.Length == 64)
        {
            Forget(Convert.FromHexString(id));
        }
    }

    /// <summary>Forgets every key.</summary>
    public void ForgetAll() => cache.Clear();

    public void Dispose() => cache.Dispose();
}

/// <summary>Registration of API-key authentication.</summary>
internal static class ApiKeysSetup
{
    /// <summary>
    /// Adds the <see cref="ApiKeyScheme.Name"/> authentication scheme and its cache. Infrastructure's security setup
    /// sends every request carrying <c>X-Api-Key</c> to it.
    /// </summary>
    public static IServiceCollection AddApiKeyAuthentication(this IServiceCollection services)
    {
        services.AddSingleton<ApiKeyCache>();
        services.AddSingleton<IRevocationSubscriber>(provider => provider.GetRequiredService<ApiKeyCache>());
        services.AddAuthentication().AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyScheme.Name, null);
        return services;
    }
}
