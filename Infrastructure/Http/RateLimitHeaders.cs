using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Threading.RateLimiting;
using StackExchange.Redis;
using SliceApi.Infrastructure.Telemetry;

namespace SliceApi.Infrastructure.Http;

/// <summary>
/// One partition's limiter (a caller's window of one policy) as the API uses it: it records the caller's quota,
/// remaining requests and window reset for the <c>RateLimit-Policy</c> and <c>RateLimit</c> response headers, and,
/// when the shared store throws, answers by <see cref="RateLimitFailMode"/> instead of failing the request.
/// </summary>
/// <remarks>
/// It never acquires synchronously (<see cref="AttemptAcquireCore"/> always declines), so ASP.NET Core's middleware
/// takes the asynchronous path once, which the Redis limiter needs (RedisRateLimiting issue #66) and which an
/// in-memory fixed window without a queue answers at once.
/// </remarks>
internal sealed class ReportingRateLimiter(
    RateLimiter inner, string policy, int quota, TimeSpan window, RateLimitFailMode failMode, RateLimitStoreHealth health, IHttpContextAccessor http)
    : RateLimiter
{
    /// <summary>Lease metadata set when the store could not be reached and the fail mode refused the request.</summary>
    public const string StoreUnavailable = "SLICEAPI_STORE_UNAVAILABLE";

    /// <summary>The <c>Retry-After</c> of a refusal while the store is unreachable, in seconds.</summary>
    public const int StoreRetryAfterSeconds = 5;

    private static readonly RateLimitLease Declined = new Lease(false, null, false);
    private readonly long created = Stopwatch.GetTimestamp();

    public override TimeSpan? IdleDuration => inner.IdleDuration;

    public override RateLimiterStatistics? GetStatistics() => null;

    protected override RateLimitLease AttemptAcquireCore(int permitCount) => Declined;

    protected override async ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken)
    {
        RateLimitLease lease;
        try
        {
            lease = await inner.AcquireAsync(permitCount, cancellationToken);
        }
        catch (Exception exception) when (exception is RedisException or TimeoutException)
        {
            health.Failed(exception, failMode);
            return new Lease(failMode == RateLimitFailMode.Open, null, storeUnavailable: failMode == RateLimitFailMode.Closed);
        }

        health.Succeeded();
        var (remaining, resetSeconds) = Position(lease);
        if (http.HttpContext is { } context)
        {
            RateLimitHeaders.Add(context, new RateLimitHeaders.Item(policy, quota, (int)window.TotalSeconds, remaining, resetSeconds));
        }

        TimeSpan? retryAfter = lease.IsAcquired ? null : TimeSpan.FromSeconds(Math.Max(1, resetSeconds));
        using (lease)
        {
            return new Lease(lease.IsAcquired, retryAfter, false);
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
        }

        base.Dispose(disposing);
    }

    // The Redis limiter reports RATELIMIT_REMAINING and RATELIMIT_RESET (the window's end); the in-memory fixed window only its free
    // permits, and its window restarts every `window` from its creation.
    private (long Remaining, int ResetSeconds) Position(RateLimitLease lease)
    {
        if (lease.TryGetMetadata(RedisRateLimiting.RateLimitMetadataName.Remaining.Name, out var remaining)
            && lease.TryGetMetadata(RedisRateLimiting.RateLimitMetadataName.Reset.Name, out var reset))
        {
            // Unix seconds in RedisRateLimiting 1.2.1, milliseconds in its next release: told apart by size.
            var at = Convert.ToInt64(reset, CultureInfo.InvariantCulture);
            var resetAt = at > 100_000_000_000 ? DateTimeOffset.FromUnixTimeMilliseconds(at) : DateTimeOffset.FromUnixTimeSeconds(at);
            var left = (resetAt - DateTimeOffset.UtcNow).TotalSeconds;
            return (Convert.ToInt64(remaining, CultureInfo.InvariantCulture), (int)Math.Clamp(Math.Ceiling(left), 0, window.TotalSeconds));
        }

        var elapsed = Stopwatch.GetElapsedTime(created);
        var intoWindow = TimeSpan.FromTicks(elapsed.Ticks % window.Ticks);
        return (inner.GetStatistics()?.CurrentAvailablePermits ?? 0, (int)Math.Ceiling((window - intoWindow).TotalSeconds));
    }

    private sealed class Lease(bool acquired, TimeSpan? retryAfter, bool storeUnavailable) : RateLimitLease
    {
        public override bool IsAcquired => acquired;

        public override IEnumerable<string> MetadataNames =>
            (retryAfter is null ? [] : new[] { MetadataName.RetryAfter.Name }).Concat(storeUnavailable ? [StoreUnavailable] : []);

        public override bool TryGetMetadata(string metadataName, out object? metadata)
        {
            metadata = metadataName == MetadataName.RetryAfter.Name ? retryAfter
                : metadataName == StoreUnavailable && storeUnavailable ? true
                : null;
            return metadata is not null;
        }
    }
}

/// <summary>
/// The <c>RateLimit-Policy</c> and <c>RateLimit</c> response headers (draft-ietf-httpapi-ratelimit-headers-09,
/// sections 3 and 4) of the limits a request counted against, e.g. <c>RateLimit-Policy: "default";q=600;w=60</c> and
/// <c>RateLimit: "default";r=599;t=42</c>: quota <c>q</c> requests per window <c>w</c> seconds, <c>r</c> requests
/// left, <c>t</c> seconds until the window resets. With the shared store these are the counts of every instance.
/// </summary>
internal sealed class RateLimitHeaders
{
    /// <summary>The policy header.</summary>
    public const string PolicyHeader = "RateLimit-Policy";

    /// <summary>The state header.</summary>
    public const string StateHeader = "RateLimit";

    /// <summary>The longest value of either header, in characters: at most two limits of about 30 characters each.</summary>
    public const int MaxLength = 256;

    /// <summary>The longest wait any response asks for in <c>Retry-After</c>, in seconds: a login lockout's 15 minutes.</summary>
    public const int MaxRetryAfterSeconds = 900;

    private readonly List<Item> items = [];

    /// <summary>One limit a request counted against.</summary>
    /// <param name="Policy">The policy name (<c>default</c>, <c>credentials</c>).</param>
    /// <param name="Quota">Requests allowed per window.</param>
    /// <param name="WindowSeconds">The window, in seconds.</param>
    /// <param name="Remaining">Requests left in the current window.</param>
    /// <param name="ResetSeconds">Seconds until the current window ends.</param>
    public sealed record Item(string Policy, int Quota, int WindowSeconds, long Remaining, int ResetSeconds);

    /// <summary>Records <paramref name="item"/> for <paramref name="context"/>'s response (the latest per policy wins).</summary>
    public static void Add(HttpContext context, Item item)
    {
        var headers = context.Features.Get<RateLimitHeaders>();
        if (headers is null)
        {
            headers = new RateLimitHeaders();
            context.Features.Set(headers);
            context.Response.OnStarting(static state =>
            {
                var (response, written) = ((HttpResponse, RateLimitHeaders))state;
                response.Headers[PolicyHeader] = string.Join(", ", written.items.Select(i => $"\"{i.Policy}\";q={i.Quota};w={i.WindowSeconds}"));
                response.Headers[StateHeader] = string.Join(", ", written.items.Select(i => $"\"{i.Policy}\";r={i.Remaining};t={i.ResetSeconds}"));
                return Task.CompletedTask;
            }, (context.Response, headers));
        }

        headers.items.RemoveAll(i => i.Policy == item.Policy);
        headers.items.Add(item);
    }
}

/// <summary>
/// Whether the shared rate-limit store answers: the first failure of an outage is logged once (a warning, with the
/// fail mode), its end once (information): the first success more than a second after the last failure, so calls still
/// failing while the connection comes back do not log the outage again. Every request that could not be checked adds 1
/// to the counter <c>sliceapi.rate_limit.store_failures</c> (meter <c>SliceApi</c>, tag <c>fail_mode</c>).
/// </summary>
internal sealed partial class RateLimitStoreHealth(ILogger<RateLimitStoreHealth> logger, IMeterFactory meters)
{
    private readonly Counter<long> failures = meters.ApiCounter(
        "sliceapi.rate_limit.store_failures", "{request}", "Requests whose rate limit could not be checked because the shared store was unreachable.");

    private static readonly long Quiet = System.Diagnostics.Stopwatch.Frequency; // one second
    private int down;
    private long lastFailure;

    /// <summary>Records a request the store could not check.</summary>
    public void Failed(Exception exception, RateLimitFailMode mode)
    {
        Interlocked.Exchange(ref lastFailure, System.Diagnostics.Stopwatch.GetTimestamp());
        failures.Add(1, new KeyValuePair<string, object?>("fail_mode", mode == RateLimitFailMode.Open ? "open" : "closed"));
        if (Interlocked.Exchange(ref down, 1) == 0)
        {
            LogUnreachable(logger, mode == RateLimitFailMode.Open ? "served without a limit" : "refused with 503", exception.Message);
        }
    }

    /// <summary>Records a request the store checked.</summary>
    public void Succeeded()
    {
        if (Volatile.Read(ref down) == 1
            && System.Diagnostics.Stopwatch.GetTimestamp() - Interlocked.Read(ref lastFailure) > Quiet
            && Interlocked.Exchange(ref down, 0) == 1)
        {
            LogReachable(logger);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The rate-limit store is unreachable; requests are {Outcome} until it answers again ({Reason})")]
    private static partial void LogUnreachable(ILogger logger, string outcome, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "The rate-limit store answers again; limits are enforced")]
    private static partial void LogReachable(ILogger logger);
}
