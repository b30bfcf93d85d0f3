using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;
using Npgsql;

namespace SliceApi.Infrastructure.Errors;

/// <summary>
/// Maps exceptions to problems: unreadable requests to 400/413/415, concurrency conflicts and
/// unique-key violations (PostgreSQL SQLSTATE 23505, or Marten's DocumentAlreadyExistsException) to 409, an unreachable database to 503, and
/// anything else to a 500 that shows no exception text outside Development.
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
            _ when IsDatabaseUnavailable(exception) => new ProblemDetails
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

        httpContext.Response.StatusCode = problem.Status!.Value;
        return await problemDetails.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            ProblemDetails = problem,
            Exception = exception,
        });
    }

    private static ProblemDetails FromBadRequest(BadHttpRequestException exception)
    {
        if (exception.InnerException is JsonException json)
        {
            return FromJson(json);
        }

        if (exception.StatusCode == StatusCodes.Status415UnsupportedMediaType)
        {
            return new ProblemDetails
            {
                Status = StatusCodes.Status415UnsupportedMediaType,
                Title = "Unsupported media type.",
                Detail = "The request body must be sent with Content-Type: application/json.",
            };
        }

        if (exception.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return new ProblemDetails { Status = StatusCodes.Status413PayloadTooLarge, Title = "The request body is too large." };
        }

        if (BindFailure().Match(exception.Message) is { Success: true } bind)
        {
            var name = JsonNamingPolicy.CamelCase.ConvertName(bind.Groups["name"].Value);
            var message = $"'{bind.Groups["value"].Value}' is not a valid {Describe(bind.Groups["type"].Value)}.";
            return new ValidationProblemDetails(new Dictionary<string, string[]> { [name] = [message] })
            {
                Status = StatusCodes.Status400BadRequest,
                Title = "The request is invalid.",
                Detail = $"'{name}': {message}",
            };
        }

        var missingBody = exception.Message.Contains("body was provided", StringComparison.Ordinal)
            || exception.Message.Contains("from body", StringComparison.Ordinal);
        return new ProblemDetails
        {
            Status = exception.StatusCode,
            Title = "The request could not be read.",
            Detail = missingBody
                ? "The request body is missing. Send a JSON object with Content-Type: application/json."
                : exception.Message.Replace("\"", "'", StringComparison.Ordinal),
        };
    }

    private static ProblemDetails FromJson(JsonException json)
    {
        var member = JsonPathToMember(json.Path);
        var conversion = json.InnerException is FormatException
            || json.Message.Contains("could not be converted", StringComparison.Ordinal);
        if (!conversion)
        {
            return new ProblemDetails
            {
                Status = StatusCodes.Status400BadRequest,
                Title = "The request body is not well-formed JSON.",
                Detail = $"JSON syntax error at line {json.LineNumber + 1}, byte {json.BytePositionInLine}: {TrimPath(json.Message)}",
            };
        }

        var message = json.InnerException is FormatException format
            ? format.Message
            : "The value has the wrong JSON type or is not one of the allowed values.";
        return new ValidationProblemDetails(new Dictionary<string, string[]> { [member] = [message] })
        {
            Status = StatusCodes.Status400BadRequest,
            Title = "The request is invalid.",
            Detail = member.Length == 0 ? message : $"'{member}': {message}",
        };
    }

    // STJ paths look like "$.dueAt" or "$.items[0].title"; an empty key stands for the whole body.
    private static string JsonPathToMember(string? path) =>
        path is null or "$" ? string.Empty : path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : path.TrimStart('$');

    private static string TrimPath(string message)
    {
        var at = message.IndexOf(" Path:", StringComparison.Ordinal);
        return at < 0 ? message : message[..at];
    }

    private static string Describe(string clrType) => clrType.Replace("Nullable<", string.Empty, StringComparison.Ordinal).TrimEnd('>') switch
    {
        "int" or "long" or "short" => "integer",
        "Guid" => "GUID (e.g. 0196f2a4-8d3e-7c41-9a52-3f1b6e0d2c77)",
        "bool" => "boolean (true or false)",
        "DateTimeOffset" or "DateTime" => "RFC 3339 date-time",
        var other => other,
    };

    // Minimal API's message for a route or query value that does not parse, e.g. Failed to bind parameter "Guid id" from "abc".
    [GeneratedRegex("^Failed to bind parameter \"(?<type>\\S+) (?<name>[^\"]+)\" from \"(?<value>.*)\"\\.$", RegexOptions.CultureInvariant)]
    private static partial Regex BindFailure();

    private static bool IsDatabaseUnavailable(Exception exception) =>
        exception is NpgsqlException { IsTransient: true }
        || exception.InnerException is NpgsqlException { IsTransient: true }
        || exception is InvalidOperationException { InnerException: NpgsqlException { IsTransient: true } };

    [LoggerMessage(Level = LogLevel.Error, Message = "Unhandled exception for {Method} {Path}")]
    private static partial void LogUnhandled(ILogger logger, Exception exception, string method, string path);
}
