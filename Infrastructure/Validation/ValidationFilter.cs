using System.Reflection;
using System.Text.Json;
using FluentValidation;
using Microsoft.AspNetCore.Mvc;

namespace SliceApi.Infrastructure.Validation;

/// <summary>
/// Runs the FluentValidation validator of <typeparamref name="TRequest"/> before the handler.
/// On failure it returns a 400 validation problem (RFC 9457) whose <c>errors</c> keys are the
/// camelCase JSON property names, and the handler never runs.
/// </summary>
/// <remarks>
/// Built once per endpoint: the validator and the argument's position are looked up when the
/// endpoint is built, so a request pays only for validation itself (measured in bench/Pipeline).
/// A request that failed to bind never reaches a filter: routing is configured with
/// <c>ThrowOnBadRequest</c>, so malformed JSON becomes a 400 problem in the exception handler.
/// </remarks>
internal static class ValidationFilter<TRequest>
{
    public static EndpointFilterDelegate Create(EndpointFilterFactoryContext factoryContext, EndpointFilterDelegate next)
    {
        var position = Array.FindIndex(factoryContext.MethodInfo.GetParameters(), p => p.ParameterType == typeof(TRequest));
        if (position < 0)
        {
            throw new InvalidOperationException(
                $"WithRequestValidation<{typeof(TRequest).Name}>() is on an endpoint whose handler takes no {typeof(TRequest).Name} parameter.");
        }

        var validator = factoryContext.ApplicationServices.GetRequiredService<IValidator<TRequest>>();
        // A query object ([AsParameters] with [FromQuery] members) names every parameter the endpoint reads; another
        // one is most likely a typo (stauts=done) that would otherwise be ignored silently, so it is a 400 too.
        var queryNames = typeof(TRequest).GetProperties()
            .Select(p => p.GetCustomAttribute<FromQueryAttribute>()?.Name)
            .OfType<string>()
            .ToArray();
        return async context =>
        {
            if (context.Arguments[position] is not TRequest request)
            {
                return TypedResults.Problem(
                    statusCode: StatusCodes.Status400BadRequest,
                    detail: "The request body is missing. Send a JSON object with Content-Type: application/json.");
            }

            if (queryNames.Length > 0 && UnknownParameterErrors(context.HttpContext.Request.Query, queryNames) is { } unknown)
            {
                return TypedResults.ValidationProblem(unknown, detail: "The query names parameters this operation does not take; see 'errors'.", title: "The request is invalid.");
            }

            var result = await validator.ValidateAsync(request, context.HttpContext.RequestAborted);
            return result.IsValid ? await next(context) : Problem(result);
        };
    }

    // The query parameters the endpoint does not read, each with a message naming the ones it does; null when there
    // are none (the usual case allocates nothing).
    private static Dictionary<string, string[]>? UnknownParameterErrors(IQueryCollection query, string[] known)
    {
        Dictionary<string, string[]>? errors = null;
        foreach (var name in query.Keys)
        {
            if (!known.Contains(name, StringComparer.OrdinalIgnoreCase))
            {
                errors ??= new Dictionary<string, string[]>(StringComparer.Ordinal);
                errors[name] = [$"'{name}' is not a parameter of this operation; it takes: {string.Join(", ", known)}."];
            }
        }

        return errors;
    }

    private static Microsoft.AspNetCore.Http.HttpResults.ValidationProblem Problem(FluentValidation.Results.ValidationResult result)
    {
        var errors = result.Errors
            .GroupBy(e => ToJsonPath(e.PropertyName), StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Select(e => e.ErrorMessage).Distinct().ToArray(), StringComparer.Ordinal);

        return TypedResults.ValidationProblem(
            errors,
            detail: "One or more fields are invalid; see 'errors' for what to fix in each.",
            title: "The request is invalid.");
    }

    // "Items[0].DueAt" -> "items[0].dueAt", matching the names clients send.
    private static string ToJsonPath(string propertyName) =>
        string.Join('.', propertyName.Split('.').Select(JsonNamingPolicy.CamelCase.ConvertName));
}

/// <summary>Registration and opt-in of request validation.</summary>
internal static class ValidationExtensions
{
    /// <summary>
    /// Registers every <see cref="IValidator{T}"/> of the assembly as a singleton
    /// (validators hold no state; rules that need the database belong in the handler).
    /// </summary>
    public static IServiceCollection AddRequestValidation(this IServiceCollection services)
    {
        ValidatorOptions.Global.LanguageManager.Enabled = false; // messages in English whatever the server's culture
        // Messages name fields as clients send them: "'dueAt' must ..." rather than "'Due At' must ...".
        ValidatorOptions.Global.DisplayNameResolver = (_, member, _) => member is null ? null : JsonNamingPolicy.CamelCase.ConvertName(member.Name);
        foreach (var result in AssemblyScanner.FindValidatorsInAssembly(typeof(ValidationExtensions).Assembly, includeInternalTypes: true))
        {
            services.AddSingleton(result.InterfaceType, result.ValidatorType);
        }

        return services;
    }

    /// <summary>
    /// Validates the endpoint's <typeparamref name="TRequest"/> argument before the handler runs,
    /// and documents the 400 validation problem in the OpenAPI document.
    /// </summary>
    public static RouteHandlerBuilder WithRequestValidation<TRequest>(this RouteHandlerBuilder builder) =>
        builder.AddEndpointFilterFactory(ValidationFilter<TRequest>.Create)
               .WithMetadata(new ValidatedRequestMetadata(typeof(TRequest)))
               .ProducesValidationProblem();
}

/// <summary>Names the request type an endpoint validates, so the OpenAPI document can state its validator's limits.</summary>
/// <param name="RequestType">The body or <c>[AsParameters]</c> type.</param>
internal sealed record ValidatedRequestMetadata(Type RequestType);
