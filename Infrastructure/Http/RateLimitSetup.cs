using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Security.Claims;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;
using RedisRateLimiting;
using SliceApi.Infrastructure.Security;
using StackExchange.Redis;

namespace SliceApi.Infrastructure.Http;

/// <summary>Where rate-limit counters live.</summary>
internal enum RateLimitStore
{
    /// <summary>In this process: each instance counts on its own (one instance, tests).</summary>
    Memory,

    /// <summary>In Redis (<see cref="RateLimitOptions.Redis"/>): every instance counts against the same window.</summary>
    Redis,
}

/// <summary>What a request gets while the shared store cannot be reached.</summary>
internal enum RateLimitFailMode
{
    /// <summary>Served without a limit (the per-account login lockout still applies).</summary>
    Open,

    /// <summary>Refused with a 503 problem and <c>Retry-After</c>.</summary>
    Closed,
}

/// <summary>Request limits (configuration section <c>RateLimiting</c>); fixed windows of one minute.</summary>
internal sealed class RateLimitOptions
{
    /// <summary>The configuration section name.</summary>
    public const string Section = "RateLimiting";

    /// <summary>Requests per minute for each authenticated caller (each user, and each API key on its own), default 600.</summary>
    [Range(1, int.MaxValue)]
    public int AuthenticatedPerMinute { get; set; } = 600;

    /// <summary>Requests per minute for each client IP without credentials, default 120.</summary>
    [Range(1, int.MaxValue)]
    public int AnonymousPerMinute { get; set; } = 120;

    /// <summary>Requests per minute for each client IP to the credential endpoints (login, register, refresh), default 10.</summary>
    [Range(1, int.MaxValue)]
    public int CredentialsPerMinute { get; set; } = 10;

    /// <summary><see cref="RateLimitStore.Memory"/> (default) or <see cref="RateLimitStore.Redis"/>, for more than one instance.</summary>
    public RateLimitStore Store { get; set; } = RateLimitStore.Memory;

    /// <summary>The StackExchange.Redis configuration string of the shared store, e.g. <c>127.0.0.1:6379</c>; required with <see cref="RateLimitStore.Redis"/>.</summary>
    public string? Redis { get; set; }

    /// <summary>What requests get while Redis cannot be reached (default <see cref="RateLimitFailMode.Open"/>).</summary>
    public RateLimitFailMode FailMode { get; set; } = RateLimitFailMode.Open;

    /// <summary>How long one Redis call may take before it counts as a store failure, in milliseconds (default 250).</summary>
    [Range(10, 10_000)]
    public int RedisTimeoutMilliseconds { get; set; } = 250;
}

/// <summary>
/// ASP.NET Core's rate limiter: a global limit per caller (the API key, else the user id of the access token,
/// else the client IP) and a stricter <see cref="CredentialsPolicy"/> per client IP on the endpoints that take
/// passwords or refresh tokens (OWASP API4:2023). Counted in memory per instance, or with
/// <c>RateLimiting:Store=Redis</c> in one Redis shared by every instance (RedisRateLimiting's fixed window, one Lua
/// script call per request and limit). Every limited response carries <c>RateLimit-Policy</c> and <c>RateLimit</c>
/// (draft-ietf-httpapi-ratelimit-headers-09); rejections are 429 problems with <c>Retry-After</c> (RFC 6585, RFC 9110
/// section 10.2.3), and with the store unreachable and <see cref="RateLimitFailMode.Closed"/>, 503 problems.
/// </summary>
internal static class RateLimitSetup
{
    /// <summary>The policy of login, registration and token refresh.</summary>
    public const string CredentialsPolicy = "credentials";

    /// <summary>The name of the global limit in the <c>RateLimit</c> headers.</summary>
    public const string DefaultPolicy = "default";

    private static readonly TimeSpan Window = TimeSpan.FromMinutes(1);

    /// <summary>Registers the limiter with limits and store from configuration.</summary>
    public static IServiceCollection AddApiRateLimiting(this IServiceCollection services)
    {
        services.AddOptions<RateLimitOptions>().BindConfiguration(RateLimitOptions.Section).ValidateDataAnnotations()
            .Validate(o => o.Store != RateLimitStore.Redis || !string.IsNullOrWhiteSpace(o.Redis),
                "RateLimiting:Store is Redis but RateLimiting:Redis (the server, e.g. 127.0.0.1:6379) is not set.")
            .ValidateOnStart();
        services.AddHttpContextAccessor();
        services.AddSingleton<RateLimitStoreHealth>();
        services.AddSingleton<Lazy<IConnectionMultiplexer>>(provider => new(() =>
        {
            var settings = provider.GetRequiredService<IOptions<RateLimitOptions>>().Value;
            var redis = ConfigurationOptions.Parse(settings.Redis!);
            redis.AbortOnConnectFail = false; // start without Redis; reconnect in the background
            redis.BacklogPolicy = BacklogPolicy.FailFast; // while disconnected, fail at once instead of queueing
            redis.AsyncTimeout = redis.SyncTimeout = settings.RedisTimeoutMilliseconds;
            redis.ConnectTimeout = Math.Max(1000, settings.RedisTimeoutMilliseconds);
            return ConnectionMultiplexer.Connect(redis);
        }));
        services.AddRateLimiter(_ => { });
        services.AddOptions<RateLimiterOptions>().Configure<IServiceProvider>((limiter, provider) =>
        {
            var limits = provider.GetRequiredService<IOptions<RateLimitOptions>>().Value;
            RateLimitPartition<string> Partition(string policy, string key, int permits) =>
                RateLimitPartition.Get(key, partitionKey => new ReportingRateLimiter(
                    CreateLimiter(limits, provider, partitionKey, permits), policy, permits, Window, limits.FailMode,
                    provider.GetRequiredService<RateLimitStoreHealth>(), provider.GetRequiredService<IHttpContextAccessor>()));

            limiter.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            limiter.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(http =>
            {
                var keyId = http.User.FindFirstValue(ApiKeyScheme.KeyIdClaim);
                var userId = http.User.FindFirstValue(AccessTokenClaims.Subject);
                return keyId is not null ? Partition(DefaultPolicy, "key:" + keyId, limits.AuthenticatedPerMinute)
                    : userId is not null ? Partition(DefaultPolicy, "user:" + userId, limits.AuthenticatedPerMinute)
                    : Partition(DefaultPolicy, "ip:" + ClientIp(http), limits.AnonymousPerMinute);
            });
            limiter.AddPolicy(CredentialsPolicy, http => Partition(CredentialsPolicy, "credentials:" + ClientIp(http), limits.CredentialsPerMinute));
            limiter.OnRejected = WriteRejectionAsync;
        });
        return services;
    }

    private static RateLimiter CreateLimiter(RateLimitOptions limits, IServiceProvider provider, string key, int permits) =>
        limits.Store == RateLimitStore.Redis
            ? new RedisFixedWindowRateLimiter<string>("sliceapi:" + key, new RedisFixedWindowRateLimiterOptions
            {
                ConnectionMultiplexerFactory = () => provider.GetRequiredService<Lazy<IConnectionMultiplexer>>().Value,
                PermitLimit = permits,
                Window = Window,
            })
            : new FixedWindowRateLimiter(new FixedWindowRateLimiterOptions { PermitLimit = permits, Window = Window, QueueLimit = 0 });

    // After UseForwardedHeaders, so a trusted proxy's X-Forwarded-For is the client.
    private static string ClientIp(HttpContext http) => http.Connection.RemoteIpAddress?.ToString() ?? "unknown";

    private static async ValueTask WriteRejectionAsync(OnRejectedContext context, CancellationToken cancellationToken)
    {
        var http = context.HttpContext;
        var storeDown = context.Lease.TryGetMetadata(ReportingRateLimiter.StoreUnavailable, out _);
        var retryAfter = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : Window;
        var seconds = storeDown ? ReportingRateLimiter.StoreRetryAfterSeconds : Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds));
        var (status, title, detail) = storeDown
            ? (StatusCodes.Status503ServiceUnavailable, "Rate limiting is unavailable.",
                $"The shared rate-limit store cannot be reached, and requests are refused until it can. Retry after {seconds} seconds.")
            : (StatusCodes.Status429TooManyRequests, "Too many requests.", $"The rate limit for this client was reached. Retry after {seconds} seconds.");
        http.Response.StatusCode = status;
        http.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        await http.RequestServices.GetRequiredService<IProblemDetailsService>().TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = http,
            ProblemDetails = new ProblemDetails { Status = status, Title = title, Detail = detail },
        });
    }
}
