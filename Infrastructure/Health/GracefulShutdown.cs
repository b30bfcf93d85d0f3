using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace SliceApi.Infrastructure.Health;

/// <summary>How an instance stops (configuration section <c>Shutdown</c>).</summary>
internal sealed class ShutdownOptions
{
    /// <summary>The configuration section name.</summary>
    public const string Section = "Shutdown";

    /// <summary>
    /// Seconds between the stop signal (SIGTERM) and closing the listening socket (default 5; 0 in Development): the
    /// instance reports not ready and answers with <c>Connection: close</c>, so load balancers move traffic away
    /// while it still serves.
    /// </summary>
    [Range(0, 300)]
    public int DrainSeconds { get; set; } = 5;

    /// <summary>Seconds, after the socket closes, that requests in flight may take to finish before the process exits anyway (default 30).</summary>
    [Range(1, 600)]
    public int InFlightTimeoutSeconds { get; set; } = 30;

    /// <summary>
    /// Behind a proxy that repeats failed requests on another instance (deploy/nginx.conf), while draining: close the
    /// connection of every request the proxy may safely repeat (GET, HEAD, OPTIONS, PUT and DELETE, idempotent by RFC
    /// 9110 section 9.2.2, and requests with an <c>Idempotency-Key</c>) without running it, except health probes. The
    /// proxy sends such a request to another instance and, counting the failure (nginx's <c>max_fails</c>), stops
    /// routing anything here, so that no request is on its way when the socket closes at the end of the drain (one
    /// that is, a POST without a key among them, would be reset and could not be repeated). Default false: clients
    /// talking to the instance directly are served until the socket closes.
    /// </summary>
    public bool RefuseRepeatableWhileDraining { get; set; }
}

/// <summary>
/// Graceful shutdown: on SIGTERM the instance first turns not ready (<c>/health/ready</c> 503) and tells clients and
/// proxies not to reuse connections (<c>Connection: close</c>) for <see cref="ShutdownOptions.DrainSeconds"/>, still
/// serving; then Kestrel stops accepting connections and waits up to
/// <see cref="ShutdownOptions.InFlightTimeoutSeconds"/> for requests in flight; then the process exits (code 0).
/// Behind nginx, requests that arrive after the socket closed are refused at connect and go to the other instance.
/// </summary>
internal sealed partial class GracefulShutdown(IOptions<ShutdownOptions> options, ILogger<GracefulShutdown> logger) : IHostedLifecycleService, IHealthCheck
{
    private volatile bool draining;

    /// <summary>Whether the instance has been told to stop.</summary>
    public bool IsDraining => draining;

    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        draining = true;
        var drain = TimeSpan.FromSeconds(options.Value.DrainSeconds);
        LogDraining(logger, drain.TotalSeconds);
        try
        {
            await Task.Delay(drain, cancellationToken);
        }
        catch (OperationCanceledException)
        {
            // The host's shutdown timeout ran out first.
        }

        LogClosing(logger, options.Value.InFlightTimeoutSeconds);
    }

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(draining ? HealthCheckResult.Unhealthy("Shutting down.") : HealthCheckResult.Healthy());

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information, Message = "Stopping: not ready, draining for {Seconds} s while still serving")]
    private static partial void LogDraining(ILogger logger, double seconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "Stopping: no new connections; waiting up to {Seconds} s for requests in flight")]
    private static partial void LogClosing(ILogger logger, int seconds);
}
