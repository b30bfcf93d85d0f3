using System.Globalization;

namespace SliceApi.Infrastructure.Endpoints;

/// <summary>
/// Marks an endpoint deprecated: since <paramref name="DeprecatedAt"/> (UTC), to be removed at <paramref name="Sunset"/>
/// (UTC), with an optional <paramref name="Link"/> to what replaces it.
/// </summary>
internal sealed record DeprecatedMetadata(DateTimeOffset DeprecatedAt, DateTimeOffset Sunset, string? Link);

/// <summary>
/// Deprecation of endpoints: every response of a deprecated endpoint carries <c>Deprecation: @&lt;unix seconds&gt;</c>
/// (RFC 9745 section 2, a structured-field Date), <c>Sunset: &lt;HTTP-date&gt;</c> (RFC 8594 section 3) and, when given,
/// <c>Link: &lt;...&gt;; rel="deprecation"</c> (RFC 9745 section 3); the OpenAPI document marks the operation deprecated.
/// </summary>
internal static class Deprecation
{
    /// <summary>
    /// Declares this endpoint deprecated since <paramref name="deprecatedAt"/>, removed at <paramref name="sunset"/>
    /// (RFC 8594 asks that the sunset not be earlier than the deprecation); <paramref name="link"/> documents the
    /// replacement, e.g. the v2 route.
    /// </summary>
    /// <exception cref="ArgumentException">The sunset is before the deprecation.</exception>
    public static TBuilder Deprecated<TBuilder>(this TBuilder builder, DateTimeOffset deprecatedAt, DateTimeOffset sunset, string? link = null)
        where TBuilder : IEndpointConventionBuilder
    {
        if (sunset < deprecatedAt)
        {
            throw new ArgumentException("The sunset must not be earlier than the deprecation (RFC 9745 section 4).", nameof(sunset));
        }

        builder.WithMetadata(new DeprecatedMetadata(deprecatedAt.ToUniversalTime(), sunset.ToUniversalTime(), link));
        return builder;
    }

    /// <summary>Adds the deprecation headers to every response of a deprecated endpoint, errors included.</summary>
    public static WebApplication UseDeprecationHeaders(this WebApplication app)
    {
        app.Use((context, next) =>
        {
            if (context.GetEndpoint()?.Metadata.GetMetadata<DeprecatedMetadata>() is { } deprecated)
            {
                context.Response.OnStarting(() =>
                {
                    var headers = context.Response.Headers;
                    headers["Deprecation"] = "@" + deprecated.DeprecatedAt.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
                    headers["Sunset"] = deprecated.Sunset.ToString("R", CultureInfo.InvariantCulture);
                    if (deprecated.Link is not null)
                    {
                        headers.Append("Link", $"<{deprecated.Link}>; rel=\"deprecation\"");
                    }

                    return Task.CompletedTask;
                });
            }

            return next(context);
        });
        return app;
    }
}
