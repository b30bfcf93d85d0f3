using System.Net;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.AspNetCore.HttpsPolicy;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;

namespace SliceApi.Infrastructure.Http;

/// <summary>
/// Transport hardening: trusted forwarded headers, HTTPS redirection and HSTS outside Development, CORS
/// for configured origins only, the response headers of OWASP's REST Security Cheat Sheet ("Security Headers") on every
/// response, no <c>Server</c> banner, and a request body size limit answered with a 413 problem.
/// </summary>
internal static class HttpSetup
{
    /// <summary>The CORS policy applied to every endpoint.</summary>
    public const string CorsPolicy = "configured-origins";

    /// <summary>Registers the options behind <see cref="UseHttpHardening"/>.</summary>
    public static IServiceCollection AddHttpHardening(this IServiceCollection services)
    {
        services.AddOptions<HttpOptions>().BindConfiguration(HttpOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<ForwardedHeadersOptions>().Configure<IOptions<HttpOptions>>((forwarded, http) =>
        {
            forwarded.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
            forwarded.KnownIPNetworks.Clear(); // the default trusts loopback; only configured proxies are trusted
            forwarded.KnownProxies.Clear();
            foreach (var proxy in http.Value.KnownProxies)
            {
                forwarded.KnownProxies.Add(IPAddress.Parse(proxy));
            }
        });
        services.AddOptions<HttpsRedirectionOptions>().Configure<IOptions<HttpOptions>>((redirect, http) =>
        {
            redirect.HttpsPort = http.Value.HttpsPort;
            redirect.RedirectStatusCode = StatusCodes.Status308PermanentRedirect;
        });
        services.AddOptions<HstsOptions>().Configure<IOptions<HttpOptions>>((hsts, http) =>
        {
            hsts.MaxAge = TimeSpan.FromDays(http.Value.HstsMaxAgeDays);
            hsts.IncludeSubDomains = true;
            hsts.ExcludedHosts.Clear();
        });
        services.AddOptions<KestrelServerOptions>().Configure<IOptions<HttpOptions>>((kestrel, http) =>
        {
            kestrel.Limits.MaxRequestBodySize = http.Value.MaxRequestBodyBytes;
            kestrel.AddServerHeader = false; // names the server software to every scanner (OWASP ASVS 4.0 V14.3.3)
        });
        services.AddCors();
        services.AddOptions<Microsoft.AspNetCore.Cors.Infrastructure.CorsOptions>().Configure<IOptions<HttpOptions>>((cors, http) =>
            cors.AddPolicy(CorsPolicy, policy => policy
                .WithOrigins(http.Value.CorsOrigins)
                .WithMethods("GET", "POST", "PUT", "PATCH", "DELETE")
                .WithHeaders("Authorization", "Content-Type", "X-Api-Key", "If-Match", "If-None-Match", "Idempotency-Key")
                .WithExposedHeaders("Location", "ETag", "Link", "Retry-After")
                .SetPreflightMaxAge(TimeSpan.FromHours(1))));
        return services;
    }

    /// <summary>
    /// The outermost middleware: runs before error handling so even error responses (a 401, a 429, a 500) carry the
    /// headers: <c>X-Content-Type-Options: nosniff</c>, <c>Content-Security-Policy: frame-ancestors 'none'</c> and
    /// <c>X-Frame-Options: DENY</c> unless a page set its own policy (the documentation pages do), and
    /// <c>Cache-Control: no-store</c> unless the endpoint said otherwise (tasks: <c>private, no-cache</c> with an ETag).
    /// </summary>
    public static WebApplication UseHttpHardening(this WebApplication app)
    {
        var http = app.Services.GetRequiredService<IOptions<HttpOptions>>().Value;
        app.Use((context, next) =>
        {
            context.Response.OnStarting(static state =>
            {
                var headers = ((HttpResponse)state).Headers;
                headers.XContentTypeOptions = "nosniff";
                if (headers.ContentSecurityPolicy.Count == 0)
                {
                    headers.ContentSecurityPolicy = "frame-ancestors 'none'";
                    headers.XFrameOptions = "DENY";
                }

                if (headers.CacheControl.Count == 0)
                {
                    headers.CacheControl = "no-store";
                }

                return Task.CompletedTask;
            }, context.Response);
            return next(context);
        });
        app.UseForwardedHeaders();
        if (http.RequireHttps ?? !app.Environment.IsDevelopment())
        {
            app.UseHsts();
            app.UseHttpsRedirection();
        }

        app.UseCors(CorsPolicy);
        return app;
    }

    /// <summary>
    /// Refuses a body whose declared length exceeds <see cref="HttpOptions.MaxRequestBodyBytes"/> with a 413 problem
    /// before anything reads it; Kestrel enforces the same limit on bodies without a Content-Length. Runs
    /// after error handling, so the bare 413 becomes a problem.
    /// </summary>
    public static WebApplication UseRequestBodyLimit(this WebApplication app)
    {
        var limit = app.Services.GetRequiredService<IOptions<HttpOptions>>().Value.MaxRequestBodyBytes;
        app.Use((context, next) =>
        {
            if (context.Request.ContentLength > limit)
            {
                context.Response.StatusCode = StatusCodes.Status413PayloadTooLarge;
                return Task.CompletedTask;
            }

            return next(context);
        });
        return app;
    }
}
