using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using SliceApi.Infrastructure.Endpoints;
using SliceApi.Infrastructure.Http;
using SliceApi.Infrastructure.Security;

namespace SliceApi.Infrastructure.OpenApi;

/// <summary>
/// The OpenAPI 3.1 document at <c>/openapi/v1.json</c>, with Swagger UI at <c>/swagger</c> and ReDoc at
/// <c>/redoc</c>. Protected operations carry the bearer security scheme (and the API key scheme with its
/// scope where API keys are accepted) and their 401/403 problems.
/// </summary>
internal static class OpenApiSetup
{
    private const string BearerScheme = "Bearer";
    private const string ApiKeyScheme = "ApiKey";
    private const string DocumentUrl = "/openapi/v1.json";
    private static readonly IReadOnlyList<int> AllVersions = EndpointDiscovery.Versions(EndpointDiscovery.FindEndpoints());

    // The tags the slices use, in the order the document lists them.
    private static readonly KeyValuePair<string, string>[] TagDescriptions =
    [
        new("Users", "Registration, the caller's account and, for admins, every account."),
        new("Auth", "Log in for an access token (JWT, 15 minutes) and a refresh token (14 days); rotate and revoke refresh tokens."),
        new("Tasks", "Tasks the caller owns or is assigned: create, list (filter, sort, cursor), read with ETag, replace, merge-patch, delete."),
        new("ApiKeys", "Long-lived keys with scopes (tasks:read, tasks:write) for scripts and integrations, sent as X-Api-Key."),
    ];

    /// <summary>
    /// Registers one document per API version (<c>/openapi/v1.json</c>, <c>/openapi/v2.json</c>, ...), each listing the
    /// endpoints of its route group, with the transformers; <paramref name="versions"/> defaults to the versions
    /// the endpoint classes declare.
    /// </summary>
    public static IServiceCollection AddApiDocumentation(this IServiceCollection services, IReadOnlyList<int>? versions = null)
    {
        foreach (var version in versions ?? EndpointDiscovery.Versions(EndpointDiscovery.FindEndpoints()))
        {
            services.AddOpenApi(EndpointDiscovery.DocumentName(version), options => Configure(options, version));
        }

        return services;
    }

    private static void Configure(OpenApiOptions options, int version)
    {
        options.AddDocumentTransformer((document, _, _) =>
        {
            document.Info = new OpenApiInfo
            {
                Title = "SliceApi",
                Version = EndpointDiscovery.DocumentName(version),
                Description = "Task management REST API. Register, log in for an access token, then send it as `Authorization: Bearer <accessToken>`. " +
                              "Errors are RFC 9457 problem details (application/problem+json).",
            };
            // One relative server: paths resolve against wherever the document is served (OpenAPI 3.1 section 4.8.5),
            // so the document is the same on every host and the checked-in copy stays stable.
            document.Servers = [new OpenApiServer { Url = "/", Description = "The host that serves this document." }];
            document.Tags = new HashSet<OpenApiTag>(TagDescriptions.Select(t => new OpenApiTag { Name = t.Key, Description = t.Value }));
            document.Components ??= new OpenApiComponents();
            document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
            document.Components.SecuritySchemes[BearerScheme] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http,
                Scheme = "bearer",
                BearerFormat = "JWT",
                Description = "The accessToken from POST /api/v1/auth/login.",
            };
            document.Components.SecuritySchemes[ApiKeyScheme] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.ApiKey,
                In = ParameterLocation.Header,
                Name = ApiKeyAuthenticationHandler.Header,
                Description = "A key from POST /api/v1/api-keys. Accepted only by operations that list it, and only with the scope they name.",
            };
            return Task.CompletedTask;
        });
        options.AddOperationTransformer((operation, context, _) =>
        {
            var metadata = context.Description.ActionDescriptor.EndpointMetadata;
            operation.Responses ??= [];
            AddProblemResponse(operation, context, StatusCodes.Status429TooManyRequests, "The caller's rate limit was reached; retry after the Retry-After seconds.");
            AddProblemResponse(operation, context, StatusCodes.Status500InternalServerError, "An unexpected error; the problem's traceId identifies it in the logs.");
        AddProblemResponse(operation, context, StatusCodes.Status503ServiceUnavailable, "The database is unreachable; retry later.");
        if (operation.RequestBody is not null)
        {
            AddProblemResponse(operation, context, StatusCodes.Status413PayloadTooLarge, "The body is over the size limit (Http:MaxRequestBodyBytes, 1 MiB by default).");
            AddProblemResponse(operation, context, StatusCodes.Status415UnsupportedMediaType, "The Content-Type is not one this operation accepts.");
        }

            if (metadata.OfType<DeprecatedMetadata>().FirstOrDefault() is { } deprecated)
            {
                operation.Deprecated = true;
                operation.Description = $"{operation.Description}\n\nDeprecated since {deprecated.DeprecatedAt:yyyy-MM-dd}; removed on {deprecated.Sunset:yyyy-MM-dd} " +
                                        "(responses carry Deprecation and Sunset headers)." + (deprecated.Link is null ? "" : $" See {deprecated.Link}.");
                operation.Description = operation.Description.TrimStart();
            }

            if (metadata.OfType<IdempotencyKeyMetadata>().Any())
            {
                operation.Parameters ??= [];
                operation.Parameters.Add(new OpenApiParameter
                {
                    Name = IdempotencyKeys.Header,
                    In = ParameterLocation.Header,
                    Required = false,
                    Description = "Makes retries safe (draft-ietf-httpapi-idempotency-key-header): a retry with the same key and body within 24 hours " +
                                  "gets the first response again (with Idempotent-Replayed: true) and creates nothing; the same key with another body is 422.",
                    Schema = new OpenApiSchema { Type = JsonSchemaType.String, MinLength = 1, MaxLength = IdempotencyKeys.MaxKeyLength },
                    Example = System.Text.Json.Nodes.JsonValue.Create("\"8e03978e-40d5-43e8-bc93-6894a57f9324\""),
                });
                operation.Responses.Remove("422");
                AddProblemResponse(operation, context, StatusCodes.Status422UnprocessableEntity, "The Idempotency-Key was already used with a different request body.");
            }

            if (!metadata.OfType<IAuthorizeData>().Any() || metadata.OfType<IAllowAnonymous>().Any())
            {
                operation.Security = [new OpenApiSecurityRequirement()]; // an empty requirement: no credentials needed
                return Task.CompletedTask;
            }

            operation.Security ??= [];
            operation.Security.Add(new OpenApiSecurityRequirement
            {
                [new OpenApiSecuritySchemeReference(BearerScheme, context.Document)] = [],
            });
            if (metadata.OfType<RequiredScope>().FirstOrDefault() is { } scope)
            {
                operation.Security.Add(new OpenApiSecurityRequirement
                {
                    [new OpenApiSecuritySchemeReference(ApiKeyScheme, context.Document)] = [scope.Scope],
                });
            }
            AddProblemResponse(operation, context, StatusCodes.Status401Unauthorized, "The access token is missing, expired or invalid.");
            if (metadata.OfType<IAuthorizeData>().Any(a => a.Policy is not null || a.Roles is not null) || metadata.OfType<RequiredScope>().Any())
            {
                AddProblemResponse(operation, context, StatusCodes.Status403Forbidden, "The caller's role, or the API key's scopes, do not allow this operation.");
            }

            return Task.CompletedTask;
        });

        options.AddSchemaTransformer(ValidationRulesTransformer.TransformSchemaAsync);
        options.AddOperationTransformer(ValidationRulesTransformer.TransformOperationAsync);
        options.AddOperationTransformer(RequestExamples.TransformOperationAsync);

        // Rfc3339DateTimeOffsetConverter is a custom converter, so the generated schema lost its type.
        options.AddSchemaTransformer((schema, context, _) =>
        {
            var type = context.JsonTypeInfo.Type;
            if (type == typeof(DateTimeOffset) || type == typeof(DateTimeOffset?))
            {
                schema.Type = type == typeof(DateTimeOffset) ? JsonSchemaType.String : JsonSchemaType.String | JsonSchemaType.Null;
                schema.Format = "date-time";
            }

            return Task.CompletedTask;
        });
    }

    /// <summary>Serves the document, Swagger UI and ReDoc, all without authentication.</summary>
    public static WebApplication UseApiDocumentation(this WebApplication app)
    {
        app.MapOpenApi().AllowAnonymous();
        // Branched by path: the UI middlewares match every request against regexes, which API calls should not pay for.
        app.UseWhen(http => http.Request.Path.StartsWithSegments("/swagger"), branch => branch.UseSwaggerUI(options =>
        {
            options.RoutePrefix = "swagger";
            foreach (var version in AllVersions)
            {
                options.SwaggerEndpoint($"/openapi/{EndpointDiscovery.DocumentName(version)}.json", $"SliceApi {EndpointDiscovery.DocumentName(version)}");
            }

            options.DocumentTitle = "SliceApi - Swagger UI";
            options.EnablePersistAuthorization();
        }));
        app.UseWhen(http => http.Request.Path.StartsWithSegments("/redoc"), branch => branch.UseReDoc(options =>
        {
            options.RoutePrefix = "redoc";
            options.SpecUrl = DocumentUrl;
            options.DocumentTitle = "SliceApi - ReDoc";
            options.IndexStream = () => typeof(OpenApiSetup).Assembly.GetManifestResourceStream("OpenApi/redoc-index.html")!;
        }));
        return app;
    }

    private static void AddProblemResponse(OpenApiOperation operation, OpenApiOperationTransformerContext context, int status, string description)
    {
        var key = status.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (operation.Responses!.ContainsKey(key))
        {
            return;
        }

        operation.Responses[key] = new OpenApiResponse
        {
            Description = description,
            Content = new Dictionary<string, OpenApiMediaType>
            {
                ["application/problem+json"] = new() { Schema = new OpenApiSchemaReference("ProblemDetails", context.Document) },
            },
        };
    }
}
