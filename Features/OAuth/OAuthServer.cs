using System.ComponentModel.DataAnnotations;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Xml.Linq;
using Marten;
using Microsoft.AspNetCore;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.XmlEncryption;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using OpenIddict.Validation;
using OpenIddict.Validation.AspNetCore;
using SliceApi.Infrastructure.Security;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace SliceApi.Features.OAuth;

/// <summary>Settings of the OAuth 2.0 server (section <c>OAuth</c>).</summary>
public sealed class OAuthOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "OAuth";

    /// <summary>How long an authorization code may be exchanged, in seconds (RFC 6749 section 4.1.2: at most 10 minutes). Default 60.</summary>
    [Range(1, 600)]
    public int AuthorizationCodeLifetimeSeconds { get; set; } = 60;

    /// <summary>How long an app's access token lasts, in minutes. Default 15, like the API's own access tokens.</summary>
    [Range(1, 60)]
    public int AccessTokenLifetimeMinutes { get; set; } = 15;

    /// <summary>How long an app's refresh token lasts unused, in days (each use rotates it). Default 14.</summary>
    [Range(1, 90)]
    public int RefreshTokenLifetimeDays { get; set; } = 14;
}

/// <summary>
/// SliceApi as an OAuth 2.0 authorization server for third-party apps, on OpenIddict 7.9 with its stores on Marten:
/// the authorization endpoint <c>/oauth/authorize</c> (this feature's sign-in and consent page), the token endpoint
/// <c>/oauth/token</c> (authorization code with PKCE S256 required for every client, RFC 9700 section 2.1.1; refresh
/// tokens rotated on every use, and a refresh token used twice revokes its grant's every token, RFC 9700 section
/// 4.14.2), revocation at <c>/oauth/revoke</c> (RFC 7009) and server metadata at
/// <c>/.well-known/oauth-authorization-server</c> (RFC 8414). No implicit or password grant (RFC 9700 section 2.1.2,
/// 2.4). Access tokens are RFC 9068 JWTs (<c>typ: at+jwt</c>, with <c>client_id</c> and <c>scope</c>), signed with
/// ES256, its public key published at <c>/.well-known/jwks</c>; codes and refresh tokens are encrypted (A256KW,
/// A256CBC-HS512). Both keys are derived from <c>Jwt:SigningKey</c> with HKDF-SHA256, so every instance holds them and
/// no key is stored.
/// </summary>
internal static class OAuthServer
{
    /// <summary>The authorization endpoint's path.</summary>
    public const string AuthorizePath = "/oauth/authorize";

    /// <summary>Registers OpenIddict's core over this feature's Marten stores, its server, and its validation of app tokens at the API.</summary>
    public static IServiceCollection AddOAuth(this IServiceCollection services)
    {
        services.AddOptions<OAuthOptions>().BindConfiguration(OAuthOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOpenIddict()
            .AddCore(core => core
                .SetDefaultApplicationEntity<OAuthApplication>()
                .SetDefaultAuthorizationEntity<OAuthAuthorization>()
                .SetDefaultTokenEntity<OAuthToken>()
                .SetDefaultScopeEntity<OAuthScope>()
                .ReplaceApplicationStore<OAuthApplication, MartenApplicationStore>(ServiceLifetime.Singleton)
                .ReplaceAuthorizationStore<OAuthAuthorization, MartenAuthorizationStore>(ServiceLifetime.Singleton)
                .ReplaceTokenStore<OAuthToken, MartenTokenStore>(ServiceLifetime.Singleton)
                .ReplaceScopeStore<OAuthScope, MartenScopeStore>(ServiceLifetime.Singleton))
            .AddServer(server =>
            {
                server.SetAuthorizationEndpointUris(AuthorizePath.TrimStart('/'))
                    .SetTokenEndpointUris("oauth/token")
                    .SetRevocationEndpointUris("oauth/revoke")
                    .SetDeviceAuthorizationEndpointUris("oauth/device")
                    .SetEndUserVerificationEndpointUris(OAuthPages.VerifyPath.TrimStart('/'))
                    .SetConfigurationEndpointUris(".well-known/oauth-authorization-server")
                    .SetJsonWebKeySetEndpointUris(".well-known/jwks");
                server.AllowAuthorizationCodeFlow().AllowRefreshTokenFlow().AllowDeviceAuthorizationFlow().RequireProofKeyForCodeExchange();
                // Advertised in the metadata; a requested scope outside them is looked up among the scope documents
                // (OAuthScopeSeeding writes the same set), so an unknown one is refused (invalid_scope).
                server.RegisterScopes([.. OAuthScopes.All]);
                server.DisableAccessTokenEncryption();
                server.SetRefreshTokenReuseLeeway(TimeSpan.Zero);
                server.AddEventHandler<OpenIddictServerEvents.ProcessSignInContext>(handler => handler
                    .UseScopedHandler<EndedGrantCheck>()
                    .SetOrder(OpenIddictServerHandlers.RedeemTokenEntry.Descriptor.Order - 600));
                server.AddEventHandler<OpenIddictServerEvents.ProcessSignInContext>(handler => handler
                    .UseScopedHandler<RedeemRefreshTokenOnce>()
                    .SetOrder(OpenIddictServerHandlers.RedeemTokenEntry.Descriptor.Order - 500));
                // TLS is the host's concern: HttpSetup redirects to HTTPS and sends HSTS wherever Http:RequireHttps holds.
                server.UseAspNetCore()
                    .SuppressJsonResponseIndentation()
                    .EnableAuthorizationEndpointPassthrough()
                    .EnableEndUserVerificationEndpointPassthrough()
                    .EnableErrorPassthrough()
                    .DisableTransportSecurityRequirement();
            })
            .AddValidation(validation =>
            {
                validation.UseLocalServer();
                validation.UseAspNetCore()
                    .DisableAccessTokenExtractionFromBodyForm()
                    .DisableAccessTokenExtractionFromQueryString();
                // Every use reads the token's entry and its grant, so revoking either ends it at once on every instance.
                validation.EnableAuthorizationEntryValidation();
                validation.EnableTokenEntryValidation();
                validation.AddEventHandler<OpenIddictValidationEvents.ProcessAuthenticationContext>(handler => handler
                    .UseInlineHandler(AppTokens.CheckAsync)
                    .SetOrder(int.MaxValue - 100_000));
            });

        services.AddOptions<OpenIddictServerOptions>().Configure<IOptions<JwtOptions>, IOptions<OAuthOptions>>((server, jwt, oauth) =>
        {
            var secret = jwt.Value.SigningKeyBytes;
            server.SigningCredentials.Add(new SigningCredentials(DeriveSigningKey(secret), SecurityAlgorithms.EcdsaSha256));
            server.EncryptionCredentials.Add(new EncryptingCredentials(
                DeriveKey(secret, "sliceapi oauth encryption"), SecurityAlgorithms.Aes256KW, SecurityAlgorithms.Aes256CbcHmacSha512));
            server.CodeChallengeMethods.Remove(CodeChallengeMethods.Plain); // S256 only (RFC 9700 section 2.1.1)
            server.Scopes.Remove(Scopes.OpenId); // an OAuth 2.0 server: no OpenID Connect identity tokens
            server.AuthorizationCodeLifetime = TimeSpan.FromSeconds(oauth.Value.AuthorizationCodeLifetimeSeconds);
            server.AccessTokenLifetime = TimeSpan.FromMinutes(oauth.Value.AccessTokenLifetimeMinutes);
            server.RefreshTokenLifetime = TimeSpan.FromDays(oauth.Value.RefreshTokenLifetimeDays);
        });

        services.AddHostedService<OAuthScopeSeeding>();
        services.AddHostedService<OAuthPruning>();
        services.AddSingleton<Microsoft.AspNetCore.Authentication.IAuthenticationSchemeProvider, OAuthRequestHandlerSchemes>();
        services.AddAuthentication().AddCookie(OAuthPages.SessionScheme, cookie =>
        {
            cookie.Cookie.Name = "sliceapi.oauth";
            cookie.Cookie.Path = "/oauth";
            cookie.Cookie.HttpOnly = true;
            cookie.Cookie.SameSite = SameSiteMode.Lax;
            cookie.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            cookie.ExpireTimeSpan = TimeSpan.FromMinutes(30);
            cookie.SlidingExpiration = false;
        });
        services.AddAntiforgery(antiforgery =>
        {
            antiforgery.Cookie.Name = "sliceapi.oauth.antiforgery";
            antiforgery.Cookie.Path = "/oauth";
            antiforgery.FormFieldName = OAuthPages.AntiforgeryField;
        });
        // The session cookie and the antiforgery tokens are Data Protection payloads: every instance reads the same key ring.
        services.AddDataProtection().SetApplicationName("SliceApi");
        // OpenIddict writes whole tokens into its Trace messages: its Trace level stays off whatever the configuration says,
        // and otherwise OpenIddict logs at the level configured for it (Information by default; it writes a Debug line
        // for every handler of every request, which cost a third of a create's CPU when a floor of Debug was set here).
        services.PostConfigure<LoggerFilterOptions>(OAuthLogging.KeepTraceOff);
        services.AddSingleton<IConfigureOptions<KeyManagementOptions>>(provider => new ConfigureOptions<KeyManagementOptions>(keys =>
        {
            keys.XmlRepository = new MartenXmlRepository(provider.GetRequiredService<IDocumentStore>());
            keys.XmlEncryptor = new SecretXmlEncryptor(provider);
        }));
        return services;
    }

    /// <summary>
    /// Puts OpenIddict's token, device and revocation endpoints under the global rate limit (anonymous callers: per client
    /// IP, <c>RateLimiting:AnonymousPerMinute</c>): OpenIddict answers them inside authentication, before the limiter of
    /// the routed endpoints runs. Call before <c>UseAuthentication</c>.
    /// </summary>
    public static WebApplication UseOAuthServerRateLimits(this WebApplication app)
    {
        app.UseWhen(http => http.Request.Path.Value is "/oauth/token" or "/oauth/device" or "/oauth/revoke", branch => branch.UseRateLimiter());
        return app;
    }

    // HKDF (RFC 5869) with SHA-256: a 256-bit key of its own per use, from the configured secret.
    private static SymmetricSecurityKey DeriveKey(byte[] secret, string purpose) =>
        new(HKDF.DeriveKey(HashAlgorithmName.SHA256, secret, 32, salt: [], info: Encoding.UTF8.GetBytes(purpose)));

    // An ECDSA P-256 key whose private scalar comes from HKDF (the public point is computed from it), so every instance
    // signs with the same key and publishes the same JWKS. Its key id is the public key's RFC 7638 thumbprint.
    private static ECDsaSecurityKey DeriveSigningKey(byte[] secret)
    {
        var ecdsa = ECDsa.Create(new ECParameters
        {
            Curve = ECCurve.NamedCurves.nistP256,
            D = HKDF.DeriveKey(HashAlgorithmName.SHA256, secret, 32, salt: [], info: "sliceapi oauth signing"u8.ToArray()),
        });
        var key = new ECDsaSecurityKey(ecdsa);
        key.KeyId = Base64UrlEncoder.Encode(JsonWebKeyConverter.ConvertFromECDsaSecurityKey(key).ComputeJwkThumbprint());
        return key;
    }
}

/// <summary>
/// The authentication schemes that <c>UseAuthentication</c> lets answer a request before routing
/// (<see cref="Microsoft.AspNetCore.Authentication.IAuthenticationRequestHandler"/>): OpenIddict's server and validation.
/// Under the API's own prefix (<c>/api</c>) the server answers nothing, and the validation is needed only for a request
/// that carries an app token (<see cref="AppTokenScheme"/>: its authentication reads the transaction the request step
/// starts), so neither is asked otherwise. Asked, each builds an OpenIddict transaction (with a finalizable weak
/// reference to the request) and dispatches its request event through its handlers only to skip it: on GET by id under
/// load that was about a fifth of SliceApi's CPU, much of it on the finalizer thread (bench/run.sh --trace get_by_id,
/// 2026-12-05). Everywhere else (the OAuth endpoints and pages) every request handler runs as registered.
/// </summary>
internal sealed class OAuthRequestHandlerSchemes(IOptions<Microsoft.AspNetCore.Authentication.AuthenticationOptions> options, IHttpContextAccessor http)
    : Microsoft.AspNetCore.Authentication.AuthenticationSchemeProvider(options)
{
    public override async Task<IEnumerable<Microsoft.AspNetCore.Authentication.AuthenticationScheme>> GetRequestHandlerSchemesAsync()
    {
        var all = await base.GetRequestHandlerSchemesAsync();
        if (http.HttpContext?.Request is not { } request || !request.Path.StartsWithSegments("/api", StringComparison.OrdinalIgnoreCase))
        {
            return all;
        }

        return AppTokenScheme.Carries(request) ? all.Where(s => s.Name == AppTokenScheme.Name) : [];
    }
}

/// <summary>
/// App access tokens at the API: requests whose bearer token is an <c>at+jwt</c> are authenticated by OpenIddict's
/// validation (scheme <see cref="AppTokenScheme.Name"/>), then pass the same account checks as the user's own tokens
/// (<see cref="PrincipalChecks"/>: active, current role, issued after the last password change). The principal the
/// API sees carries <c>sub</c>, the user's current <c>role</c>, <c>iat</c>, <c>client_id</c> and one <c>scope</c> claim
/// per granted scope; <see cref="ApiKeyScopes"/> then limits it to the endpoints its scopes reach.
/// </summary>
internal static class AppTokens
{
    /// <summary>Runs the account checks on a validated app token and gives the API its principal; refuses with <c>invalid_token</c>.</summary>
    public static async ValueTask CheckAsync(OpenIddictValidationEvents.ProcessAuthenticationContext context)
    {
        if (context.AccessTokenPrincipal is not { } token || context.Transaction.GetHttpRequest()?.HttpContext is not { } http)
        {
            return;
        }

        var identity = new ClaimsIdentity(AppTokenScheme.Name, AccessTokenClaims.Subject, AccessTokenClaims.Role);
        identity.AddClaim(new Claim(AccessTokenClaims.Subject, token.GetClaim(Claims.Subject) ?? ""));
        if (token.GetCreationDate() is { } issuedAt)
        {
            identity.AddClaim(new Claim(Claims.IssuedAt, issuedAt.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture)));
        }

        identity.AddClaim(new Claim(Claims.ClientId, token.GetClaim(Claims.ClientId) ?? token.GetPresenters().FirstOrDefault() ?? ""));
        identity.AddClaims(token.GetScopes().Select(scope => new Claim(ApiScopes.ClaimType, scope)));
        var principal = new ClaimsPrincipal(identity);
        if (await PrincipalChecks.RunAsync(http.RequestServices, principal, http.RequestAborted) is { } refusal)
        {
            context.Reject(Errors.InvalidToken, refusal);
            return;
        }

        context.AccessTokenPrincipal = principal;
    }
}

/// <summary>A Data Protection key as stored, a Marten document (table <c>mt_doc_dataprotectionkey</c>).</summary>
public sealed class DataProtectionKey
{
    /// <summary>The key's friendly name (its id).</summary>
    public string Id { get; set; } = "";

    /// <summary>The key as Data Protection's XML.</summary>
    public string Xml { get; set; } = "";
}

/// <summary>The storage of <see cref="DataProtectionKey"/>: mapped up front, so <c>migrate</c> creates its table.</summary>
internal sealed class DataProtectionKeyMapping : IConfigureMarten
{
    public void Configure(IServiceProvider services, StoreOptions options) => options.Schema.For<DataProtectionKey>();
}

/// <summary>ASP.NET Core Data Protection's key ring in PostgreSQL, so every instance reads and writes the same keys.</summary>
internal sealed class MartenXmlRepository(IDocumentStore store) : IXmlRepository
{
    public IReadOnlyCollection<XElement> GetAllElements()
    {
        // Data Protection asks synchronously, once per key ring refresh (about daily); Marten 9 reads asynchronously only.
        using var session = store.QuerySession();
        var keys = session.Query<DataProtectionKey>().ToListAsync().GetAwaiter().GetResult();
        return [.. keys.Select(k => XElement.Parse(k.Xml))];
    }

    public void StoreElement(XElement element, string friendlyName)
    {
        using var session = store.LightweightSession();
        session.Store(new DataProtectionKey { Id = friendlyName, Xml = element.ToString(SaveOptions.DisableFormatting) });
        session.SaveChangesAsync().GetAwaiter().GetResult(); // synchronous too: a new key every 90 days
    }
}

/// <summary>
/// Makes a refresh token good for one new pair even when it is sent many times at once: OpenIddict marks it redeemed but
/// lets requests that read it before that mark go on (it tolerates concurrent refreshes), so without this each of a
/// burst got a pair of its own. Here the first to mark it redeemed (the store's row lock and concurrency token decide)
/// goes on, and the others get <c>invalid_grant</c>. A refresh token used again later is refused by OpenIddict, which
/// then revokes every token of the grant (RFC 9700 section 4.14.2).
/// </summary>
internal sealed class RedeemRefreshTokenOnce(IOpenIddictTokenManager tokens) : IOpenIddictServerHandler<OpenIddictServerEvents.ProcessSignInContext>
{
    public async ValueTask HandleAsync(OpenIddictServerEvents.ProcessSignInContext context)
    {
        if (RefreshTokenPrincipal(context)?.GetTokenId() is not { } id
            || await tokens.FindByIdAsync(id) is not { } token)
        {
            return;
        }

        if (!await tokens.HasStatusAsync(token, Statuses.Valid) || !await tokens.TryRedeemAsync(token))
        {
            context.Reject(Errors.InvalidGrant, "The refresh token was used by another request at the same time; it is good for one new pair.");
        }
    }

    /// <summary>The principal of the refresh token a token request redeems (OpenIddict validated it before sign-in), else null.</summary>
    internal static ClaimsPrincipal? RefreshTokenPrincipal(OpenIddictServerEvents.ProcessSignInContext context) =>
        context.EndpointType is OpenIddictServerEndpointType.Token && context.Request.IsRefreshTokenGrantType()
            ? context.Transaction.GetProperty<OpenIddictServerEvents.ProcessAuthenticationContext>(typeof(OpenIddictServerEvents.ProcessAuthenticationContext).FullName!)
                ?.RefreshTokenPrincipal
            : null;
}

/// <summary>
/// A grant ends when its user's account is deactivated or deleted, or its password changed after the grant was given:
/// a refresh then revokes the grant and its tokens and gets <c>invalid_grant</c>, so the app cannot mint access tokens
/// newer than the change (the access tokens it holds are refused at the API by the account check already).
/// </summary>
internal sealed class EndedGrantCheck(IQuerySession session, IOpenIddictAuthorizationManager grants, IOpenIddictTokenManager tokens)
    : IOpenIddictServerHandler<OpenIddictServerEvents.ProcessSignInContext>
{
    public async ValueTask HandleAsync(OpenIddictServerEvents.ProcessSignInContext context)
    {
        if (RedeemRefreshTokenOnce.RefreshTokenPrincipal(context) is not { } principal
            || principal.GetAuthorizationId() is not { } grantId
            || await grants.FindByIdAsync(grantId) is not { } grant)
        {
            return;
        }

        var user = Guid.TryParse(principal.GetClaim(Claims.Subject), out var userId) ? await session.LoadAsync<Users.User>(userId) : null;
        var grantedAt = await grants.GetCreationDateAsync(grant);
        if (user is { IsActive: true } && (user.TokensValidAfter is not { } validAfter || grantedAt >= validAfter))
        {
            return;
        }

        await grants.TryRevokeAsync(grant);
        await tokens.RevokeByAuthorizationIdAsync(grantId);
        context.Reject(Errors.InvalidGrant, "The grant ended: the account was deactivated, or its password changed after the grant. Ask the user to allow the app again.");
    }
}

/// <summary>
/// Encrypts Data Protection keys before they are stored in PostgreSQL (AES-256-GCM, 12-byte nonce, 16-byte tag, under a
/// key derived from <c>Jwt:SigningKey</c> with HKDF-SHA256), so a copy of the database alone cannot forge the OAuth
/// page's session cookie. Written as <c>&lt;encryptedKey&gt;</c> with base64 <c>nonce</c>, <c>tag</c> and content.
/// </summary>
internal sealed class SecretXmlEncryptor(IServiceProvider services) : IXmlEncryptor
{
    public EncryptedXmlInfo Encrypt(XElement plaintextElement)
    {
        var plain = Encoding.UTF8.GetBytes(plaintextElement.ToString(SaveOptions.DisableFormatting));
        var nonce = RandomNumberGenerator.GetBytes(AesGcm.NonceByteSizes.MaxSize);
        var tag = new byte[AesGcm.TagByteSizes.MaxSize];
        var cipher = new byte[plain.Length];
        using (var aes = new AesGcm(SecretXmlDecryptor.Key(services), tag.Length))
        {
            aes.Encrypt(nonce, plain, cipher, tag);
        }

        return new EncryptedXmlInfo(
            new XElement("encryptedKey", new XAttribute("nonce", Convert.ToBase64String(nonce)), new XAttribute("tag", Convert.ToBase64String(tag)), Convert.ToBase64String(cipher)),
            typeof(SecretXmlDecryptor));
    }
}

/// <summary>Decrypts what <see cref="SecretXmlEncryptor"/> wrote; Data Protection creates it by type with the app's services.</summary>
internal sealed class SecretXmlDecryptor(IServiceProvider services) : IXmlDecryptor
{
    public XElement Decrypt(XElement encryptedElement)
    {
        var nonce = Convert.FromBase64String((string)encryptedElement.Attribute("nonce")!);
        var tag = Convert.FromBase64String((string)encryptedElement.Attribute("tag")!);
        var cipher = Convert.FromBase64String(encryptedElement.Value);
        var plain = new byte[cipher.Length];
        using (var aes = new AesGcm(Key(services), tag.Length))
        {
            aes.Decrypt(nonce, cipher, tag, plain);
        }

        return XElement.Parse(Encoding.UTF8.GetString(plain));
    }

    internal static byte[] Key(IServiceProvider services) =>
        HKDF.DeriveKey(HashAlgorithmName.SHA256, services.GetRequiredService<IOptions<JwtOptions>>().Value.SigningKeyBytes, 32, salt: [],
            info: "sliceapi data protection keys"u8.ToArray());
}

/// <summary>
/// Deletes what OpenIddict no longer needs, as its Quartz integration would (which is not served here): every hour
/// (the first time 5 minutes after start), token entries and grants created more than <see cref="Age"/> ago that can no
/// longer be used (expired, redeemed, revoked; grants revoked, or ad-hoc ones without tokens). Every instance runs it;
/// the deletes are the same whoever runs them. A failure (the database away) is logged and tried again an hour later.
/// </summary>
internal sealed partial class OAuthPruning(IServiceScopeFactory scopes, TimeProvider clock, ILogger<OAuthPruning> logger) : BackgroundService
{
    /// <summary>How old an entry must be to go: 14 days, OpenIddict's own default.</summary>
    public static readonly TimeSpan Age = TimeSpan.FromDays(14);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await Task.Delay(TimeSpan.FromMinutes(5), clock, stoppingToken);
            using var timer = new PeriodicTimer(TimeSpan.FromHours(1), clock);
            do
            {
                await PruneAsync(stoppingToken);
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Prunes once; the numbers of token entries and grants deleted.</summary>
    public async Task<(long Tokens, long Grants)> PruneAsync(CancellationToken ct)
    {
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var threshold = clock.GetUtcNow() - Age;
            var tokens = await scope.ServiceProvider.GetRequiredService<IOpenIddictTokenManager>().PruneAsync(threshold, ct);
            var grants = await scope.ServiceProvider.GetRequiredService<IOpenIddictAuthorizationManager>().PruneAsync(threshold, ct);
            LogPruned(logger, tokens, grants);
            return (tokens, grants);
        }
        catch (Exception exception) when (exception is Npgsql.NpgsqlException or Marten.Exceptions.MartenException or TimeoutException)
        {
            LogPruneFailed(logger, exception.Message);
            return (0, 0);
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Pruned {Tokens} OAuth token entries and {Grants} grants")]
    private static partial void LogPruned(ILogger logger, long tokens, long grants);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Pruning OAuth token entries and grants failed ({Reason}); trying again in an hour")]
    private static partial void LogPruneFailed(ILogger logger, string reason);
}

/// <summary>The log levels of OpenIddict's categories.</summary>
internal static class OAuthLogging
{
    /// <summary>
    /// Keeps OpenIddict's Trace level off (its Trace messages hold whole tokens) whatever the configuration says, and
    /// otherwise leaves OpenIddict at the level configured for it (Information by default): a rule for <c>OpenIddict</c>
    /// added after the configuration's wins, and configured rules for its sub-categories at Trace become Debug.
    /// </summary>
    public static void KeepTraceOff(LoggerFilterOptions logging)
    {
        var configured = logging.Rules
            .Where(r => r.ProviderName is null && (r.CategoryName is null || "OpenIddict".StartsWith(r.CategoryName, StringComparison.OrdinalIgnoreCase)))
            .OrderBy(r => r.CategoryName?.Length ?? 0).LastOrDefault()?.LogLevel ?? logging.MinLevel;
        for (var i = 0; i < logging.Rules.Count; i++)
        {
            if (logging.Rules[i] is { CategoryName: { } category, LogLevel: LogLevel.Trace } rule && category.StartsWith("OpenIddict", StringComparison.OrdinalIgnoreCase))
            {
                logging.Rules[i] = new LoggerFilterRule(rule.ProviderName, category, LogLevel.Debug, rule.Filter);
            }
        }

        logging.Rules.Add(new LoggerFilterRule(null, "OpenIddict", configured > LogLevel.Debug ? configured : LogLevel.Debug, null));
    }
}

