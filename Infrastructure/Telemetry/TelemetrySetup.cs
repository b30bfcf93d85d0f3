using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging.Console;
using Npgsql;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace SliceApi.Infrastructure.Telemetry;

/// <summary>
/// OpenTelemetry for the API. Metrics: ASP.NET Core's (<c>http.server.*</c>, <c>kestrel.*</c>,
/// <c>aspnetcore.rate_limiting.*</c>, ...), the runtime's (<c>dotnet.*</c>), Npgsql's (<c>db.client.*</c>) and
/// SliceApi's own (meter <see cref="MeterName"/>, <c>sliceapi.*</c>). Traces: a server span per request (W3C
/// <c>traceparent</c> honoured; not for health probes and scrapes) with a child span per Npgsql command. Export: OTLP for all three signals (logs too)
/// when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set (with the other standard <c>OTEL_*</c> settings); a Prometheus
/// scrape endpoint, <c>GET /metrics</c>, on the management address <c>Management:Url</c> only.
/// Console logs are JSON lines with <c>Logging:Console:FormatterName=json</c>, each with its scopes, which hold the
/// <c>TraceId</c> and <c>SpanId</c> of the request.
/// </summary>
internal static class TelemetrySetup
{
    /// <summary>The name of SliceApi's own meter; its instruments are named <c>sliceapi.*</c>.</summary>
    public const string MeterName = "SliceApi";

    /// <summary>The configuration key of the OTLP endpoint, named by the OpenTelemetry specification.</summary>
    public const string OtlpEndpointKey = "OTEL_EXPORTER_OTLP_ENDPOINT";

    /// <summary>The path of the Prometheus scrape endpoint on the management address.</summary>
    public const string ScrapePath = "/metrics";

    /// <summary>
    /// Registers the meter and tracer providers for what is configured: nothing is collected when neither the OTLP
    /// endpoint nor the management address is set. Adds <c>Management:Url</c> to the addresses Kestrel listens on.
    /// </summary>
    /// <exception cref="InvalidOperationException"><c>Management:Url</c> is not an absolute http URL with a port, or its port is one the API listens on.</exception>
    public static WebApplicationBuilder AddApiTelemetry(this WebApplicationBuilder builder)
    {
        // JSON console lines (when Logging:Console:FormatterName is json) carry the request's TraceId and SpanId in their scopes.
        builder.Services.Configure<JsonConsoleFormatterOptions>(o =>
        {
            o.IncludeScopes = true;
            o.UseUtcTimestamp = true;
            o.TimestampFormat = "yyyy-MM-dd'T'HH:mm:ss.fff'Z'";
        });

        var apiUrls = ListeningUrls(builder);
        var management = ManagementAddress.From(builder.Configuration, apiUrls);
        var otlp = !string.IsNullOrWhiteSpace(builder.Configuration[OtlpEndpointKey]);
        builder.Services.AddSingleton(management);
        if (management.Port is null && !otlp)
        {
            return builder;
        }

        if (management.Url is { } url)
        {
            builder.WebHost.UseUrls([.. apiUrls, url]);
        }

        var telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService("sliceapi", serviceVersion: typeof(TelemetrySetup).Assembly.GetName().Version?.ToString()))
            .WithMetrics(metrics =>
            {
                metrics.AddAspNetCoreInstrumentation().AddRuntimeInstrumentation().AddNpgsqlInstrumentation().AddMeter(MeterName);
                if (management.Port is not null)
                {
                    metrics.AddPrometheusExporter();
                }
            });
        if (otlp)
        {
            // Spans are only made when something exports them.
            telemetry.WithTracing(tracing => tracing
                    .AddAspNetCoreInstrumentation(o => o.Filter = context =>
                        !context.Request.Path.StartsWithSegments("/health") && context.Request.Path != ScrapePath)
                    .AddNpgsql())
                .UseOtlpExporter();
        }

        return builder;
    }

    /// <summary>
    /// Serves <c>GET /metrics</c> (Prometheus text format) on the management address, and nothing else there: any other
    /// request to that port is a 404, and <c>/metrics</c> on the API's own address is not found either. Place first,
    /// before HTTPS redirection, authentication and rate limiting, none of which apply to the scraper.
    /// </summary>
    public static WebApplication UseApiTelemetry(this WebApplication app)
    {
        if (app.Services.GetRequiredService<ManagementAddress>().Port is not { } port)
        {
            return app;
        }

        app.UseOpenTelemetryPrometheusScrapingEndpoint(context => context.Connection.LocalPort == port && context.Request.Path == ScrapePath);
        app.Use((context, next) =>
        {
            if (context.Connection.LocalPort != port)
            {
                return next(context);
            }

            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return Task.CompletedTask;
        });
        return app;
    }

    /// <summary>
    /// A counter of SliceApi's meter (<see cref="MeterName"/>), created once per host: the meter factory and the meter
    /// return the instruments they already made for the same name.
    /// </summary>
    /// <param name="meters">The host's meter factory.</param>
    /// <param name="name">An OpenTelemetry-style name, <c>sliceapi.&lt;area&gt;.&lt;what&gt;</c>.</param>
    /// <param name="unit">A UCUM annotation such as <c>{task}</c>.</param>
    /// <param name="description">What one increment means.</param>
    public static Counter<long> ApiCounter(this IMeterFactory meters, string name, string unit, string description) =>
        meters.Create(MeterName).CreateCounter<long>(name, unit, description);

    // The addresses the API itself listens on: --urls / ASPNETCORE_URLS, else Kestrel's default.
    private static string[] ListeningUrls(WebApplicationBuilder builder)
    {
        var urls = builder.WebHost.GetSetting(WebHostDefaults.ServerUrlsKey);
        return string.IsNullOrWhiteSpace(urls)
            ? ["http://localhost:5000"]
            : urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
    }
}

/// <summary>
/// The management address (configuration key <c>Management:Url</c>, e.g. <c>http://127.0.0.1:9464</c>): a second
/// listening address for operators' tools only, which serves the Prometheus scrape endpoint and nothing of the API.
/// Bind it to an address clients cannot reach (loopback, or a private interface). Empty: no management address.
/// </summary>
internal sealed record ManagementAddress(string? Url, int? Port)
{
    /// <summary>The configuration key.</summary>
    public const string Key = "Management:Url";

    /// <summary>Reads and checks <see cref="Key"/> against <paramref name="apiUrls"/>, the addresses the API listens on.</summary>
    /// <exception cref="InvalidOperationException">The value is not an absolute http URL with an explicit port, or it uses a port of the API's own addresses.</exception>
    public static ManagementAddress From(IConfiguration configuration, IReadOnlyList<string> apiUrls)
    {
        var text = configuration[Key];
        if (string.IsNullOrWhiteSpace(text))
        {
            return new ManagementAddress(null, null);
        }

        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttp || uri.IsDefaultPort || uri.AbsolutePath != "/")
        {
            throw new InvalidOperationException($"{Key} must be an http URL with a port and no path, such as http://127.0.0.1:9464 (got '{text}').");
        }

        if (apiUrls.Any(u => Uri.TryCreate(u.Replace("*", "localhost", StringComparison.Ordinal).Replace("+", "localhost", StringComparison.Ordinal), UriKind.Absolute, out var api) && api.Port == uri.Port))
        {
            throw new InvalidOperationException($"{Key} ({text}) must use a port the API does not listen on ({string.Join(';', apiUrls)}).");
        }

        return new ManagementAddress($"http://{uri.Authority}", uri.Port);
    }
}
