using SliceApi.Infrastructure.Data;

namespace SliceApi.Infrastructure.Health;

/// <summary>Liveness and readiness endpoints for orchestrators and load balancers, both anonymous.</summary>
internal static class HealthSetup
{
    /// <summary>
    /// Registers graceful shutdown (<see cref="GracefulShutdown"/>): its draining makes <c>/health/ready</c> 503, and the
    /// host's shutdown timeout covers the drain and the requests in flight.
    /// </summary>
    public static IServiceCollection AddGracefulShutdown(this IServiceCollection services)
    {
        services.AddOptions<ShutdownOptions>().BindConfiguration(ShutdownOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<GracefulShutdown>();
        services.AddHostedService(provider => provider.GetRequiredService<GracefulShutdown>());
        services.AddHealthChecks().AddCheck<GracefulShutdown>("shutdown", tags: [DataSetup.ReadyTag]);
        // The readiness checks also run in the background for the gauge sliceapi.health.ready (ReadinessMetric).
        services.AddSingleton<Microsoft.Extensions.Diagnostics.HealthChecks.IHealthCheckPublisher, ReadinessMetric>();
        services.Configure<Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckPublisherOptions>(o =>
        {
            o.Delay = TimeSpan.FromSeconds(1);
            o.Period = ReadinessMetric.Period;
            o.Predicate = check => check.Tags.Contains(DataSetup.ReadyTag);
        });
        services.AddOptions<HostOptions>().Configure<Microsoft.Extensions.Options.IOptions<ShutdownOptions>>((host, shutdown) =>
            host.ShutdownTimeout = TimeSpan.FromSeconds(shutdown.Value.DrainSeconds + shutdown.Value.InFlightTimeoutSeconds));
        return services;
    }

    /// <summary>
    /// Once draining: sends <c>Connection: close</c> on every response (HTTP/1.1; HTTP/2 ends with GOAWAY when Kestrel
    /// stops), and with <see cref="ShutdownOptions.RefuseRepeatableWhileDraining"/> closes the connection of every
    /// request a proxy may repeat elsewhere, unanswered.
    /// </summary>
    public static WebApplication UseGracefulShutdown(this WebApplication app)
    {
        var shutdown = app.Services.GetRequiredService<GracefulShutdown>();
        var refuseRepeatable = app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<ShutdownOptions>>().Value.RefuseRepeatableWhileDraining;
        app.Use((context, next) =>
        {
            if (!shutdown.IsDraining)
            {
                return next(context);
            }

            if (refuseRepeatable && IsRepeatable(context.Request) && !context.Request.Path.StartsWithSegments("/health"))
            {
                context.Abort();
                return Task.CompletedTask;
            }

            context.Response.Headers.Connection = "close";
            return next(context);
        });
        return app;
    }

    // What deploy/nginx.conf repeats on another instance: idempotent methods (RFC 9110 section 9.2.2), and requests with
    // an Idempotency-Key (draft-ietf-httpapi-idempotency-key-header), which SliceApi runs once per key.
    private static bool IsRepeatable(HttpRequest request) =>
        HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method) || HttpMethods.IsOptions(request.Method)
        || HttpMethods.IsPut(request.Method) || HttpMethods.IsDelete(request.Method)
        || request.Headers.ContainsKey("Idempotency-Key");

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
