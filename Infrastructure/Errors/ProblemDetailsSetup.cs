using System.Diagnostics;
using Microsoft.AspNetCore.WebUtilities;

namespace SliceApi.Infrastructure.Errors;

/// <summary>
/// Makes every 4xx and 5xx response an RFC 9457 problem (<c>application/problem+json</c>) with
/// <c>type</c>, <c>title</c>, <c>status</c>, <c>detail</c>, <c>instance</c> and <c>traceId</c> (the W3C trace id of the request).
/// </summary>
internal static class ProblemDetailsSetup
{
    /// <summary>The longest <c>title</c>, in characters; longer ones are cut (OWASP API4:2023: every string has a bound).</summary>
    public const int MaxTitleLength = 200;

    /// <summary>
    /// The longest <c>detail</c> and <c>errors</c> message, in characters; longer ones (a detail that quotes what the
    /// client sent) are cut and end with an ellipsis.
    /// </summary>
    public const int MaxDetailLength = 2000;

    /// <summary>The most messages one <c>errors</c> member lists.</summary>
    public const int MaxMessagesPerError = 20;

    /// <summary><paramref name="text"/> cut to <paramref name="max"/> characters, the last of them an ellipsis when cut.</summary>
    public static string? Bounded(string? text, int max) => text is null || text.Length <= max ? text : string.Concat(text.AsSpan(0, max - 1), "…");

    /// <summary>
    /// Registers problem details (instance, type, detail and traceId on every problem) and the exception handler
    /// (<see cref="ApiExceptionHandler"/>), which turns known exceptions into 409/413/503 problems and any other into a 500.
    /// </summary>
    public static IServiceCollection AddApiProblemDetails(this IServiceCollection services)
    {
        services.AddProblemDetails(options => options.CustomizeProblemDetails = context =>
        {
            var problem = context.ProblemDetails;
            var http = context.HttpContext;
            problem.Instance ??= http.Request.Path;
            // ASP.NET Core fills type for RFC 9110 statuses; 429 is defined in RFC 6585, and RFC 9457 section 4.2.1 names about:blank otherwise.
            problem.Type ??= (problem.Status ?? http.Response.StatusCode) == StatusCodes.Status429TooManyRequests
                ? "https://www.rfc-editor.org/rfc/rfc6585#section-4"
                : "about:blank";
            problem.Detail = Bounded(problem.Detail ?? DefaultDetail(problem.Status ?? http.Response.StatusCode, http), MaxDetailLength);
            problem.Title = Bounded(problem.Title, MaxTitleLength);
            // The W3C trace id (32 hex digits) of the request's span: the one a traceparent header sent, and the one in the logs and traces.
            problem.Extensions["traceId"] = Activity.Current is { } activity ? activity.TraceId.ToHexString() : http.TraceIdentifier;
        });
        services.AddExceptionHandler<ApiExceptionHandler>();
        return services;
    }

    /// <summary>
    /// Adds the exception handler and status-code pages, so errors raised anywhere in the pipeline,
    /// and bare status codes (unknown route 404, 405, 401 challenges, 403), get a problem body.
    /// </summary>
    public static WebApplication UseApiProblemDetails(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        return app;
    }

    /// <summary>
    /// A request without <c>Content-Type</c> to an endpoint that takes a body gets a 415 problem naming the media type
    /// to send (FastEndpoints answers it with an empty body, issue #222). Place right before the endpoints.
    /// </summary>
    public static WebApplication UseMissingContentTypeProblem(this WebApplication app)
    {
        app.Use(async (context, next) =>
        {
            if (!context.Request.Headers.ContainsKey(Microsoft.Net.Http.Headers.HeaderNames.ContentType)
                && context.GetEndpoint()?.Metadata.GetMetadata<Microsoft.AspNetCore.Http.Metadata.IAcceptsMetadata>() is { } accepts
                && !accepts.ContentTypes.Contains("*/*"))
            {
                context.Response.StatusCode = StatusCodes.Status415UnsupportedMediaType;
                await context.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
                {
                    HttpContext = context,
                    ProblemDetails =
                    {
                        Status = StatusCodes.Status415UnsupportedMediaType,
                        Title = "Unsupported media type.",
                        Detail = $"The request body must be sent with Content-Type: {string.Join(" or ", accepts.ContentTypes)}.",
                    },
                });
                return;
            }

            await next(context);
        });
        return app;
    }

    private static string DefaultDetail(int status, HttpContext http) => status switch
    {
        StatusCodes.Status401Unauthorized =>
            "A valid access token is required: send 'Authorization: Bearer <accessToken>' with a token from POST /api/v1/auth/login.",
        StatusCodes.Status403Forbidden => "Your role does not allow this operation.",
        StatusCodes.Status404NotFound => $"No resource exists at {http.Request.Path}.",
        StatusCodes.Status405MethodNotAllowed => $"The method {http.Request.Method} is not allowed on {http.Request.Path}.",
        StatusCodes.Status413PayloadTooLarge => "The request body is larger than this API accepts (Http:MaxRequestBodyBytes).",
        StatusCodes.Status415UnsupportedMediaType => "The request body must be sent with Content-Type: application/json.",
        StatusCodes.Status500InternalServerError => "An unexpected error occurred. Quote the traceId when reporting it.",
        StatusCodes.Status503ServiceUnavailable => "The service is temporarily unavailable. Retry later.",
        _ => ReasonPhrases.GetReasonPhrase(status),
    };
}
