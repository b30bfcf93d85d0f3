using SliceApi.Infrastructure.Data;

namespace SliceApi.Infrastructure.Health;

/// <summary>Liveness and readiness endpoints for orchestrators and load balancers, both anonymous.</summary>
internal static class HealthSetup
{
    /// <summary>
    /// <c>GET /health/live</c>: 200 while the process runs (no checks). <c>GET /health/ready</c>: 200 when the
    /// database answers and every migration is applied, otherwise 503. The body is plain text: Healthy or Unhealthy.
    /// Neither is rate limited: probes come from the load balancer or orchestrator, and must not fail when the
    /// shared rate-limit store does.
    /// </summary>
    public static WebApplication MapHealthEndpoints(this WebApplication app)
    {
        app.MapHealthChecks("/health/live", new() { Predicate = _ => false }).AllowAnonymous().DisableRateLimiting().WithTags("Health");
        app.MapHealthChecks("/health/ready", new() { Predicate = c => c.Tags.Contains(DataSetup.ReadyTag) }).AllowAnonymous().DisableRateLimiting().WithTags("Health");
        return app;
    }
}
