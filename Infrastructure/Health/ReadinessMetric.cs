using System.Diagnostics.Metrics;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using SliceApi.Infrastructure.Data;
using SliceApi.Infrastructure.Telemetry;

namespace SliceApi.Infrastructure.Health;

/// <summary>
/// The gauge <c>sliceapi.health.ready</c> (meter <c>SliceApi</c>; Prometheus: <c>sliceapi_health_ready</c>): 1 while the
/// checks of <c>/health/ready</c> pass (the database answers with the schema the mappings need, the instance is not
/// draining), 0 while they fail; no value before the first run. ASP.NET Core's health-check publisher runs those checks
/// every <see cref="Period"/> in the background, so an instance reports its readiness to whatever scrapes it, which is
/// what the alert <c>SliceApiNotReady</c> (deploy/prometheus/rules.yml) watches.
/// </summary>
internal sealed class ReadinessMetric : IHealthCheckPublisher
{
    /// <summary>How often the readiness checks run for the gauge (5 seconds, the deployment's scrape interval).</summary>
    public static readonly TimeSpan Period = TimeSpan.FromSeconds(5);

    private int ready = -1; // -1: not run yet

    public ReadinessMetric(IMeterFactory meters) =>
        meters.Create(TelemetrySetup.MeterName).CreateObservableGauge("sliceapi.health.ready", Observe, "{status}",
            "1 while the instance's readiness checks (/health/ready) pass, 0 while they fail.");

    /// <inheritdoc />
    public Task PublishAsync(HealthReport report, CancellationToken cancellationToken)
    {
        Volatile.Write(ref ready, report.Status == HealthStatus.Healthy ? 1 : 0);
        return Task.CompletedTask;
    }

    private IEnumerable<Measurement<int>> Observe()
    {
        var value = Volatile.Read(ref ready);
        return value < 0 ? [] : [new Measurement<int>(value)];
    }
}
