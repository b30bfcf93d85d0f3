using SliceApi.Infrastructure.Data;

namespace SliceApi.Infrastructure.Health;

/// <summary>Liveness and readiness endpoints for orchestrators and load balancers, both anonymous.</summary>
internal static class HealthSetup
{
    /// <summary>Registers graceful shutdown (<see cref="GracefulShutdown"/>), whose draining makes <c>/health/ready</c> 503.</summary>
    public static IServiceCollection AddGracefulShutdown(this IServiceCollection services)
    {
        GracefulShutdown.Register(services, DataSetup.ReadyTag);
        return services;
    }

    /// <summary>Marks responses <c>Connection: close</c> while the instance drains.</summary>
    public static WebApplication UseGracefulShutdown(this WebApplication app) => GracefulShutdown.UseGracefulShutdown(app);

    /// <summary>
    /// <c>GET /health/live</c>: 200 while the process runs (no checks). <c>GET /health/ready</c>: 200 when the
    /// database answers, every migration is applied and the instance is not shutting down, otherwise 503. The body is plain text: Healthy or Unhealthy.
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
