using System.Security.Claims;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace SliceApi.Infrastructure.Security;

/// <summary>
/// Validates access tokens like <see cref="JsonWebTokenHandler"/> and remembers each valid token until its
/// own <c>exp</c> (UTC), so a client that sends the same token many times pays for signature checking,
/// base64 and JSON parsing once. Measured in bench/Pipeline: validation was most of the per-request
/// overhead SliceApi adds to a bare Minimal API.
/// </summary>
/// <remarks>
/// The cache key is the whole compact token, signature included, so an altered token never hits it.
/// Entries never outlive the token's expiry (no clock-skew allowance is extended), and a failed
/// validation is never cached. At most <see cref="MaxEntries"/> tokens are held (about 2 KB each);
/// past that, new tokens are validated every time until old ones expire or are compacted.
/// Changing the signing key takes a restart anyway (options are read once), which also empties the cache.
/// A revocation message about any account empties it too (<see cref="Revocations"/>; they are rare, and a remembered
/// token is re-validated once): the account check runs on every request regardless, so this is belt and braces.
/// </remarks>
internal sealed class CachingAccessTokenHandler : JsonWebTokenHandler, IRevocationSubscriber, IDisposable
{
    /// <summary>The most tokens remembered at once.</summary>
    public const int MaxEntries = 10_000;

    private readonly MemoryCache cache = new(new MemoryCacheOptions { SizeLimit = MaxEntries });
    private readonly TimeProvider clock;

    /// <summary>Creates the handler; <paramref name="clock"/> decides when entries expire.</summary>
    public CachingAccessTokenHandler(TimeProvider clock)
    {
        this.clock = clock;
        MapInboundClaims = false;
    }

    public override async Task<TokenValidationResult> ValidateTokenAsync(string token, TokenValidationParameters validationParameters)
    {
        if (cache.TryGetValue(token, out Validated? validated) && validated!.ExpiresAt > clock.GetUtcNow())
        {
            // A copy per request: claims transformation or a handler may add claims to the identity.
            return new TokenValidationResult { IsValid = true, ClaimsIdentity = validated.Identity.Clone(), SecurityToken = validated.Token };
        }

        var result = await base.ValidateTokenAsync(token, validationParameters);
        if (result.IsValid && result.SecurityToken is { ValidTo: var validTo } securityToken && validTo > DateTime.MinValue)
        {
            var expiresAt = new DateTimeOffset(DateTime.SpecifyKind(validTo, DateTimeKind.Utc));
            cache.Set(token, new Validated(result.ClaimsIdentity.Clone(), securityToken, expiresAt),
                new MemoryCacheEntryOptions { AbsoluteExpiration = expiresAt, Size = 1 });
        }

        return result;
    }

    public void Revoked(string kind, string id)
    {
        if (kind == Revocations.Account)
        {
            cache.Clear();
        }
    }

    public void ForgetAll() => cache.Clear();

    public void Dispose() => cache.Dispose();

    private sealed record Validated(ClaimsIdentity Identity, SecurityToken Token, DateTimeOffset ExpiresAt);
}
