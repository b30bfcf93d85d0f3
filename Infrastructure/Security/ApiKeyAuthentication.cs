using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;

namespace SliceApi.Infrastructure.Security;

/// <summary>The scopes an API key can hold.</summary>
internal static class ApiScopes
{
    /// <summary>Read tasks.</summary>
    public const string TasksRead = "tasks:read";

    /// <summary>Create, change and delete tasks.</summary>
    public const string TasksWrite = "tasks:write";

    /// <summary>Every scope.</summary>
    public static readonly IReadOnlyList<string> All = [TasksRead, TasksWrite];

    /// <summary>The claim type carrying one scope per claim.</summary>
    public const string ClaimType = "scope";
}

/// <summary>A stored API key as the authentication handler needs it.</summary>
/// <param name="Id">The key's id.</param>
/// <param name="OwnerId">The user the key acts as.</param>
/// <param name="Scopes">What the key may do (<see cref="ApiScopes"/>).</param>
/// <param name="ExpiresAt">When it stops working (UTC), or null.</param>
/// <param name="Revoked">Whether it was revoked.</param>
internal sealed record ApiKeyGrant(Guid Id, Guid OwnerId, IReadOnlyList<string> Scopes, DateTimeOffset? ExpiresAt, bool Revoked);

/// <summary>Finds an API key by the SHA-256 of its text; implemented by Features/ApiKeys, found by assembly scan.</summary>
internal interface IApiKeySource
{
    /// <summary>The key whose hash is <paramref name="keyHash"/>, or null.</summary>
    Task<ApiKeyGrant?> FindAsync(byte[] keyHash, CancellationToken ct);
}

/// <summary>Marks an endpoint as callable with an API key holding <see cref="Scope"/>; endpoints without it refuse API keys.</summary>
/// <param name="Scope">The scope required.</param>
internal sealed record RequiredScope(string Scope);

/// <summary>
/// Authenticates <c>X-Api-Key: &lt;key&gt;</c> as the key's owner, with the owner's current role and one
/// <c>scope</c> claim per granted scope. Lookups are remembered for 30 seconds per key (revocation is immediate
/// on the instance that revoked, see <see cref="ApiKeyCache.Forget"/>); the owner's account state goes through
/// <see cref="AccountStatusCheck"/> like an access token's.
/// </summary>
internal sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder,
    IServiceScopeFactory scopes, AccountStatusCheck statusCheck, ApiKeyCache cache, TimeProvider clock)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    /// <summary>The scheme name.</summary>
    public const string SchemeName = "ApiKey";

    /// <summary>The request header carrying the key.</summary>
    public const string Header = "X-Api-Key";

    /// <summary>The claim carrying the id of the key a request came with (rate limits count per key).</summary>
    public const string ApiKeyIdClaim = "api_key_id";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var key = Request.Headers[Header].ToString();
        if (key.Length == 0)
        {
            return AuthenticateResult.NoResult();
        }

        var hash = System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(key));
        var grant = await cache.GetOrLookUpAsync(hash, async () =>
        {
            await using var scope = scopes.CreateAsyncScope();
            return await scope.ServiceProvider.GetRequiredService<IApiKeySource>().FindAsync(hash, Context.RequestAborted);
        });
        if (grant is null || grant.Revoked || grant.ExpiresAt <= clock.GetUtcNow())
        {
            return AuthenticateResult.Fail("The API key is unknown, expired or revoked.");
        }

        var identity = new ClaimsIdentity(SchemeName, AccessTokenClaims.Subject, AccessTokenClaims.Role);
        identity.AddClaim(new Claim(AccessTokenClaims.Subject, grant.OwnerId.ToString()));
        identity.AddClaim(new Claim(ApiKeyIdClaim, grant.Id.ToString()));
        identity.AddClaims(grant.Scopes.Select(s => new Claim(ApiScopes.ClaimType, s)));
        var principal = new ClaimsPrincipal(identity);
        if (await statusCheck.ApplyAsync(principal, Context.RequestAborted) is { } refusal)
        {
            return AuthenticateResult.Fail(refusal);
        }

        return AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = $"{SchemeName} header=\"{Header}\"";
        return Task.CompletedTask;
    }
}

/// <summary>Remembers API key lookups for 30 seconds; <see cref="Forget"/> drops one after a revocation.</summary>
internal sealed class ApiKeyCache : IDisposable
{
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
        cache.Set(key, grant, new MemoryCacheEntryOptions { AbsoluteExpirationRelativeToNow = AccountStatusCheck.MaxAge, Size = 1 });
        return grant;
    }

    /// <summary>Forgets a key (by the hash of its text) so a revocation takes effect at once on this instance.</summary>
    public void Forget(byte[] keyHash) => cache.Remove(Convert.ToBase64String(keyHash));

    public void Dispose() => cache.Dispose();
}

/// <summary>Scope enforcement for API-key callers; endpoints declare their scope with <c>ApiKeyScope(...)</c> in <c>Configure()</c>.</summary>
internal static class ApiKeyScopes
{
    /// <summary>
    /// After authorization: a caller authenticated by API key may only call endpoints that name a scope, and only
    /// with that scope granted; otherwise 403 with a problem saying what is missing.
    /// </summary>
    public static WebApplication UseApiKeyScopes(this WebApplication app)
    {
        app.Use(async (http, next) =>
        {
            if (http.User.Identity is { IsAuthenticated: true, AuthenticationType: ApiKeyAuthenticationHandler.SchemeName })
            {
                var required = http.GetEndpoint()?.Metadata.GetMetadata<RequiredScope>();
                var detail = required is null
                    ? "This endpoint does not accept API keys; send an access token instead."
                    : http.User.HasClaim(ApiScopes.ClaimType, required.Scope) ? null : $"The API key lacks the scope '{required.Scope}'.";
                if (detail is not null)
                {
                    http.Response.StatusCode = StatusCodes.Status403Forbidden;
                    await http.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
                    {
                        HttpContext = http,
                        ProblemDetails = new ProblemDetails { Status = StatusCodes.Status403Forbidden, Title = "Insufficient scope.", Detail = detail },
                    });
                    return;
                }
            }

            await next(http);
        });
        return app;
    }
}
