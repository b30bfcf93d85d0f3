using System.ComponentModel.DataAnnotations;

namespace SliceApi.Infrastructure.Http;

/// <summary>Transport settings (configuration section <c>Http</c>).</summary>
internal sealed class HttpOptions
{
    /// <summary>The configuration section name.</summary>
    public const string Section = "Http";

    /// <summary>
    /// Redirect plain HTTP to HTTPS and send HSTS (RFC 6797). Default: true outside Development. Behind a
    /// TLS-terminating proxy, list the proxy in <see cref="KnownProxies"/> so its X-Forwarded-Proto is believed.
    /// </summary>
    public bool? RequireHttps { get; set; }

    /// <summary>The port HTTPS redirects point to (default 443).</summary>
    [Range(1, 65535)]
    public int HttpsPort { get; set; } = 443;

    /// <summary>HSTS max-age in days (default 365).</summary>
    [Range(1, 3650)]
    public int HstsMaxAgeDays { get; set; } = 365;

    /// <summary>
    /// IP addresses of reverse proxies whose X-Forwarded-For and X-Forwarded-Proto are trusted. Empty (the
    /// default): forwarded headers are ignored, even from loopback.
    /// </summary>
    public string[] KnownProxies { get; set; } = [];

    /// <summary>Origins allowed to call the API from a browser (CORS), e.g. <c>https://app.example.com</c>. Empty (the default): none.</summary>
    public string[] CorsOrigins { get; set; } = [];

    /// <summary>Largest accepted request body in bytes (default 1 MiB); larger ones get a 413 problem.</summary>
    [Range(1, long.MaxValue)]
    public long MaxRequestBodyBytes { get; set; } = 1024 * 1024;
}
