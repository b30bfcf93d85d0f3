using System.Text.Json;
using FastEndpoints;
using FluentValidation;
using SliceApi.Infrastructure.Json;
using SliceApi.Infrastructure.Security;
using SliceApi.Infrastructure.Validation;

namespace SliceApi.Infrastructure.Endpoints;

/// <summary>
/// The FastEndpoints setup every slice shares: discovery of the endpoint classes and <c>Validator&lt;T&gt;</c>s of this
/// assembly, routes under <c>/api/v{n}</c> (version 1 unless an endpoint says <c>Version(n)</c>), endpoint names equal to
/// the class names (the OpenAPI operationIds), and RFC 9457 problems for every validation and binding failure.
/// </summary>
internal static class ApiEndpoints
{
    /// <summary>The path prefix of version 1 of the API.</summary>
    public const string V1Prefix = "/api/v1";

    /// <summary>The OpenAPI document name of <paramref name="version"/>, e.g. <c>v2</c>.</summary>
    public static string DocumentName(int version) => $"v{version}";

    /// <summary>
    /// Registers FastEndpoints with the endpoints and validators of <paramref name="assembly"/> only (this app's by
    /// default; other loaded assemblies, test assemblies included, are not scanned).
    /// </summary>
    public static IServiceCollection AddApiEndpoints(this IServiceCollection services, System.Reflection.Assembly? assembly = null)
    {
        ValidatorOptions.Global.LanguageManager.Enabled = false; // messages in English whatever the server's culture
        // Messages name fields as clients send them: "'dueAt' must ..." rather than "'Due At' must ...".
        ValidatorOptions.Global.DisplayNameResolver = (_, member, _) => member is null ? null : JsonNamingPolicy.CamelCase.ConvertName(member.Name);
        return services.AddFastEndpoints(o =>
        {
            o.Assemblies = [assembly ?? typeof(ApiEndpoints).Assembly];
            o.DisableAutoDiscovery = true;
        });
    }

    /// <summary>
    /// Maps the endpoints. Every endpoint requires an authenticated caller unless it says <c>AllowAnonymous()</c>
    /// (FastEndpoints is secure by default); API keys are refused unless it says <see cref="CallableWithScope"/>.
    /// </summary>
    /// <remarks>
    /// FastEndpoints keeps this configuration process-wide and runs the lambda once per process (tests start many
    /// hosts), so nothing in it may depend on one host: per-host values come from each request's services.
    /// </remarks>
    public static WebApplication UseApiEndpoints(this WebApplication app)
    {
        app.UseFastEndpoints(c =>
        {
            c.Endpoints.RoutePrefix = "api";
            c.Endpoints.ShortNames = true;
            c.Versioning.Prefix = "v";
            c.Versioning.DefaultVersion = 1;
            c.Versioning.PrependToRoute = true;
            c.Errors.ResponseBuilder = ValidationProblems.Build;
            c.Errors.ProducesMetadataType = typeof(HttpValidationProblemDetails);
            c.Binding.FailureMessage = ValidationProblems.BindingFailure;
            c.Binding.JsonExceptionTransformer = ValidationProblems.FromJsonException;
            c.Serializer.RequestDeserializer = ParsedRequestBody.Deserializer(c.Serializer.Options);
            c.Endpoints.Configurator = ep =>
            {
                ep.PreProcessor<UnknownQueryParameterCheck>(Order.Before);
                ep.Description(b => DocumentCommonProblems(b, ep));
            };
        });
        return app;
    }

    // The problems any operation can answer, whatever its slice: 400 (an unknown query parameter, a malformed id),
    // 401 and 403 (API keys are refused unless the slice names a scope), 429 (rate limits), 500, 503 (the database),
    // and for bodies 413 and 415.
    private static void DocumentCommonProblems(RouteHandlerBuilder builder, EndpointDefinition endpoint)
    {
        builder.ProducesValidationProblem();
        if (endpoint.AnonymousVerbs is null)
        {
            builder.ProducesProblem(StatusCodes.Status401Unauthorized);
        }

        builder.ProducesProblem(StatusCodes.Status403Forbidden);
        if (endpoint.Verbs.Any(v => v is "POST" or "PUT" or "PATCH"))
        {
            builder.ProducesProblem(StatusCodes.Status413PayloadTooLarge).ProducesProblem(StatusCodes.Status415UnsupportedMediaType);
        }

        builder.ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status500InternalServerError)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
    }

    /// <summary>
    /// Lets API keys and apps' access tokens holding <paramref name="scope"/> call this endpoint (the user's own access
    /// tokens are governed by their role alone); endpoints without it refuse both with a 403 (OWASP API5:2023,
    /// function-level authorization).
    /// </summary>
    public static void CallableWithScope(this EndpointDefinition endpoint, string scope) =>
        endpoint.Metadata(new RequiredScope(scope));
}
