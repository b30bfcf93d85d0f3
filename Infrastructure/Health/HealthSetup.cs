using SliceApi.Infrastructure.Data;

namespace SliceApi.Infrastructure.Health;

/// <summary>Liveness and readiness endpoints for orchestrators and load balancers, both anonymous.</summary>
internal static class HealthSetup
{
    /// <summary>
    /// <c>GET /health/live</c>: 200 while the process runs (no checks). <c>GET /health/ready</c>: 200 when the
    /// database answers and every migration is applied, otherwise 503. The body is plain text: Healthy or Unhealthy.
    /// </summary>
    public static WebApplication MapHealthEndpoints(this WebApplication app)
    {
        app.MapHealthChecks("/health/live", new() { Predicate = _ => false }).AllowAnonymous().WithTags("Health");
        app.MapHealthChecks("/health/ready", new() { Predicate = c => c.Tags.Contains(DataSetup.ReadyTag) }).AllowAnonymous().WithTags("Health");
        return app;
    }
}
