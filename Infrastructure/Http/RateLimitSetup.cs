using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Security.Claims;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;
using SliceApi.Infrastructure.Security;

namespace SliceApi.Infrastructure.Http;

/// <summary>Request limits (configuration section <c>RateLimiting</c>); fixed windows of one minute, per instance.</summary>
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
}

/// <summary>
/// ASP.NET Core's rate limiter: a global limit per caller (the API key, else the user id of the access token,
/// else the client IP)
/// and a stricter <see cref="CredentialsPolicy"/> per client IP on the endpoints that take passwords or
/// refresh tokens (OWASP API4:2023). Rejections are 429 problems with <c>Retry-After</c> (RFC 6585, RFC 9110
/// section 10.2.3). Counters live in memory, so limits are per instance.
/// </summary>
internal static class RateLimitSetup
{
    /// <summary>The policy of login, registration and token refresh.</summary>
    public const string CredentialsPolicy = "credentials";

    private static readonly TimeSpan Window = TimeSpan.FromMinutes(1);

    /// <summary>Registers the limiter with limits from configuration.</summary>
    public static IServiceCollection AddApiRateLimiting(this IServiceCollection services)
    {
        services.AddOptions<RateLimitOptions>().BindConfiguration(RateLimitOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddRateLimiter(_ => { });
        services.AddOptions<RateLimiterOptions>().Configure<IOptions<RateLimitOptions>>((limiter, configured) =>
        {
            var limits = configured.Value;
            limiter.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            limiter.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(http =>
            {
                var keyId = http.User.FindFirstValue(ApiKeyAuthenticationHandler.ApiKeyIdClaim);
                var userId = http.User.FindFirstValue(AccessTokenClaims.Subject);
                return keyId is not null ? FixedWindow("key:" + keyId, limits.AuthenticatedPerMinute)
                    : userId is not null ? FixedWindow("user:" + userId, limits.AuthenticatedPerMinute)
                    : FixedWindow("ip:" + ClientIp(http), limits.AnonymousPerMinute);
            });
            limiter.AddPolicy(CredentialsPolicy, http => FixedWindow("credentials:" + ClientIp(http), limits.CredentialsPerMinute));
            limiter.OnRejected = WriteRejectionAsync;
        });
        return services;
    }

    private static RateLimitPartition<string> FixedWindow(string key, int permits) =>
        RateLimitPartition.GetFixedWindowLimiter(key, _ => new FixedWindowRateLimiterOptions
        {
            PermitLimit = permits,
            Window = Window,
            QueueLimit = 0,
        });

    // After UseForwardedHeaders, so a trusted proxy's X-Forwarded-For is the client.
    private static string ClientIp(HttpContext http) => http.Connection.RemoteIpAddress?.ToString() ?? "unknown";

    private static async ValueTask WriteRejectionAsync(OnRejectedContext context, CancellationToken cancellationToken)
    {
        var retryAfter = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : Window;
        var seconds = (int)Math.Ceiling(retryAfter.TotalSeconds);
        var http = context.HttpContext;
        http.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        await http.RequestServices.GetRequiredService<IProblemDetailsService>().TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = http,
            ProblemDetails = new ProblemDetails
            {
                Status = StatusCodes.Status429TooManyRequests,
                Title = "Too many requests.",
                Detail = $"The rate limit for this client was reached. Retry after {seconds} seconds.",
            },
        });
    }
}
