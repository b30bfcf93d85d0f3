using System.Collections.Concurrent;
using System.Reflection;
using System.Text.Json;
using FastEndpoints;
using FluentValidation.Results;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;
using SliceApi.Infrastructure.Errors;

namespace SliceApi.Infrastructure.Validation;

/// <summary>
/// How FastEndpoints reports a request it cannot accept: an RFC 9457 validation problem (status 400 unless a slice
/// says otherwise) whose <c>errors</c> object is keyed by the member as the client sent it (<c>dueAt</c>,
/// <c>items[0].title</c>, <c>Idempotency-Key</c>), with the same <c>type</c>, <c>instance</c> and <c>traceId</c> as
/// every other problem of the API.
/// </summary>
internal static class ValidationProblems
{
    /// <summary>The problem type of a 400 (RFC 9110 section 15.5.1).</summary>
    public const string BadRequestType = "https://tools.ietf.org/html/rfc9110#section-15.5.1";

    /// <summary>The title of every 400 validation problem.</summary>
    public const string Title = "The request is invalid.";

    /// <summary>FastEndpoints' <c>Errors.ResponseBuilder</c>: the failures of validation, binding or a handler's <c>AddError</c>.</summary>
    public static object Build(List<ValidationFailure> failures, HttpContext http, int status)
    {
        var errors = failures
            .GroupBy(f => ToJsonPath(f.PropertyName), StringComparer.Ordinal)
            .ToDictionary(
                g => g.Key,
                g => g.Select(f => ProblemDetailsSetup.Bounded(f.ErrorMessage, ProblemDetailsSetup.MaxDetailLength)!).Distinct()
                    .Take(ProblemDetailsSetup.MaxMessagesPerError).ToArray(),
                StringComparer.Ordinal);
        var problem = new HttpValidationProblemDetails(errors)
        {
            Status = status,
            Type = status == StatusCodes.Status400BadRequest ? BadRequestType : null,
            Title = status == StatusCodes.Status400BadRequest ? Title : ReasonPhrases.GetReasonPhrase(status),
            // A value that could not be read (binding, JSON) is named in the detail; a validator's rules point to 'errors'.
            Detail = failures.Count == 1 && string.IsNullOrEmpty(failures[0].ErrorCode) && errors.First() is var (key, messages)
                ? (key.Length == 0 ? messages[0] : $"'{key}': {messages[0]}")
                : "One or more fields are invalid; see 'errors' for what to fix in each.",
        };
        // The same defaults (instance, traceId, type) as problems written through IProblemDetailsService.
        http.RequestServices.GetRequiredService<IOptions<ProblemDetailsOptions>>().Value.CustomizeProblemDetails?
            .Invoke(new ProblemDetailsContext { HttpContext = http, ProblemDetails = problem });
        return problem;
    }

    /// <summary>
    /// FastEndpoints' <c>Binding.FailureMessage</c>: a route, query or header value that does not parse, e.g.
    /// <c>'abc' is not a valid GUID (e.g. 0196f2a4-8d3e-7c41-9a52-3f1b6e0d2c77).</c>
    /// </summary>
    public static string BindingFailure(Type type, string name, StringValues value) =>
        $"'{value}' is not a valid {Describe(Nullable.GetUnderlyingType(type) ?? type)}.";

    /// <summary>
    /// FastEndpoints' <c>Binding.JsonExceptionTransformer</c>: a body that is not well-formed JSON is reported on the
    /// empty key with its line and byte; a member of the wrong type or format on that member.
    /// </summary>
    public static ValidationFailure FromJsonException(JsonException json)
    {
        var member = json.Path is null or "$" ? string.Empty : json.Path.StartsWith("$.", StringComparison.Ordinal) ? json.Path[2..] : json.Path.TrimStart('$');
        var conversion = json.InnerException is FormatException || json.Message.Contains("could not be converted", StringComparison.Ordinal);
        if (json.Message.StartsWith("Duplicate ", StringComparison.Ordinal))
        {
            // JsonSetup refuses duplicates. Typed bodies give the member's path; a JsonElement body (merge patch) only its message.
            if (member.Length == 0 && json.Message.Split('\'') is [_, var name, ..])
            {
                member = name;
            }

            return new ValidationFailure(member, $"'{member}' appears more than once in one object; send each member once (RFC 8259 section 4).");
        }

        if (!conversion)
        {
            var message = json.Message;
            var at = message.IndexOf(" Path:", StringComparison.Ordinal);
            return new ValidationFailure(string.Empty,
                $"The request body is not well-formed JSON: syntax error at line {json.LineNumber + 1}, byte {json.BytePositionInLine}: {(at < 0 ? message : message[..at])}");
        }

        return new ValidationFailure(member, json.InnerException is FormatException format
            ? format.Message
            : "The value has the wrong JSON type or is not one of the allowed values.");
    }

    // "Items[0].DueAt" -> "items[0].dueAt"; header names ("Idempotency-Key") stay as sent.
    private static string ToJsonPath(string propertyName) =>
        propertyName.Contains('-', StringComparison.Ordinal)
            ? propertyName
            : string.Join('.', propertyName.Split('.').Select(JsonNamingPolicy.CamelCase.ConvertName));

    private static string Describe(Type type) => type switch
    {
        _ when type == typeof(int) || type == typeof(long) || type == typeof(short) => "integer",
        _ when type == typeof(Guid) => "GUID (e.g. 0196f2a4-8d3e-7c41-9a52-3f1b6e0d2c77)",
        _ when type == typeof(bool) => "boolean (true or false)",
        _ when type == typeof(DateTimeOffset) || type == typeof(DateTime) => "RFC 3339 date-time",
        _ => type.Name,
    };
}

/// <summary>
/// Refuses query parameters an operation does not take with a 400 naming the ones it does: a typo such as
/// <c>stauts=done</c> would otherwise be ignored silently and the client would get an unfiltered list. Runs before
/// every endpoint's own pre-processors; the parameters an operation takes are its request's <c>[QueryParam]</c> members.
/// </summary>
internal sealed class UnknownQueryParameterCheck : IGlobalPreProcessor
{
    private static readonly ConcurrentDictionary<Type, string[]> Known = new();

    public Task PreProcessAsync(IPreProcessorContext context, CancellationToken ct)
    {
        var http = context.HttpContext;
        if (http.Request.Query.Count == 0 || http.Response.HasStarted
            || http.GetEndpoint()?.Metadata.GetMetadata<EndpointDefinition>() is not { } endpoint)
        {
            return Task.CompletedTask;
        }

        var known = Known.GetOrAdd(endpoint.ReqDtoType, static type => type.GetProperties()
            .Where(p => p.GetCustomAttribute<QueryParamAttribute>() is not null)
            .Select(p => p.GetCustomAttribute<BindFromAttribute>()?.Name ?? JsonNamingPolicy.CamelCase.ConvertName(p.Name))
            .ToArray());
        var failures = new List<ValidationFailure>();
        foreach (var name in http.Request.Query.Keys)
        {
            if (!known.Contains(name, StringComparer.OrdinalIgnoreCase))
            {
                failures.Add(new ValidationFailure(name, known.Length == 0
                    ? $"'{name}' is not a parameter of this operation; it takes no query parameters."
                    : $"'{name}' is not a parameter of this operation; it takes: {string.Join(", ", known)}."));
            }
        }

        if (failures.Count == 0)
        {
            return Task.CompletedTask;
        }

        // Binding or validation failures of the same request are reported together with these.
        failures.InsertRange(0, context.ValidationFailures);
        return http.Response.SendErrorsAsync(failures, cancellation: ct);
    }
}
