using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;

namespace SliceApi.Infrastructure.Errors;

/// <summary>
/// Maps exceptions to problems: unreadable requests to 400/413/415, concurrency conflicts and
/// unique-key violations (PostgreSQL SQLSTATE 23505, or Marten's DocumentAlreadyExistsException) to 409, an unreachable
/// database to 503 with <c>Retry-After</c> (logged once per outage by <see cref="Data.DatabaseOutage"/>), and anything
/// else to a 500 that shows no exception text outside Development.
/// </summary>
internal sealed partial class ApiExceptionHandler(
    IProblemDetailsService problemDetails,
    IHostEnvironment environment,
    ILogger<ApiExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (exception is OperationCanceledException && httpContext.RequestAborted.IsCancellationRequested)
        {
            return true; // the client went away; nobody is left to read a problem
        }

        var problem = exception switch
        {
            BadHttpRequestException bad => FromBadRequest(bad),
            // A write whose revision check failed (a concurrent change) where the slice did not answer 412 itself.
            JasperFx.ConcurrencyException => new ProblemDetails
            {
                Status = StatusCodes.Status409Conflict,
                Title = "The resource was changed by another request.",
                Detail = "Read the resource again and retry the change.",
            },
            // Marten reports a unique-index violation on insert (a document with the same unique value) this way.
            JasperFx.DocumentAlreadyExistsException => new ProblemDetails
            {
                Status = StatusCodes.Status409Conflict,
                Title = "The resource already exists.",
                Detail = "A resource with the same unique value already exists.",
            },
            _ when Data.DatabaseOutage.IsUnreachable(exception) => new ProblemDetails
            {
                Status = StatusCodes.Status503ServiceUnavailable,
                Title = "The database is unavailable.",
                Detail = "The service cannot reach its database. Retry later.",
            },
            _ => null,
        };

        if (problem is null)
        {
            LogUnhandled(logger, exception, httpContext.Request.Method, httpContext.Request.Path);
            problem = new ProblemDetails
            {
                Status = StatusCodes.Status500InternalServerError,
                Title = "An unexpected error occurred.",
                Detail = environment.IsDevelopment() ? exception.ToString() : null,
            };
        }

        if (problem.Status == StatusCodes.Status503ServiceUnavailable)
        {
            httpContext.RequestServices.GetService<Data.DatabaseOutage>()?.Report(exception);
            httpContext.Response.Headers.RetryAfter = Data.DatabaseOutage.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        httpContext.Response.StatusCode = problem.Status!.Value;
        return await problemDetails.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            ProblemDetails = problem,
            Exception = exception,
        });
    }

    // FastEndpoints reports bodies and values it cannot read itself (Infrastructure/Validation/ValidationProblems.cs);
    // what reaches here is Kestrel's, such as a body over the size limit while it is read.
    private static ProblemDetails FromBadRequest(BadHttpRequestException exception) =>
        exception.StatusCode == StatusCodes.Status413PayloadTooLarge
            ? new ProblemDetails { Status = StatusCodes.Status413PayloadTooLarge, Title = "The request body is too large." }
            : new ProblemDetails
            {
                Status = exception.StatusCode,
                Title = "The request could not be read.",
                Detail = exception.Message.Replace("\"", "'", StringComparison.Ordinal),
            };

    [LoggerMessage(Level = LogLevel.Error, Message = "Unhandled exception for {Method} {Path}")]
    private static partial void LogUnhandled(ILogger logger, Exception exception, string method, string path);
}
