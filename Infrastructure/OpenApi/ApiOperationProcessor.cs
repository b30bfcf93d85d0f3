using System.Reflection;
using FastEndpoints;
using Microsoft.AspNetCore.Authorization;
using NJsonSchema;
using NSwag;
using NSwag.Generation.AspNetCore;
using NSwag.Generation.Processors;
using NSwag.Generation.Processors.Contexts;
using SliceApi.Infrastructure.Endpoints;
using SliceApi.Infrastructure.Http;
using SliceApi.Infrastructure.Security;
using SliceApi.Infrastructure.Validation;

namespace SliceApi.Infrastructure.OpenApi;

/// <summary>
/// An optional request header that an endpoint filter (not the request DTO) reads, listed as a header parameter of the
/// operations whose metadata carries it.
/// </summary>
/// <param name="Name">The header name as clients send it.</param>
/// <param name="Description">What it does, for the document.</param>
/// <param name="MaxLength">The longest value accepted, in characters (at least 1).</param>
/// <param name="Example">A value as sent.</param>
internal sealed record DocumentedHeader(string Name, string Description, int MaxLength, string Example);

/// <summary>Endpoint metadata: the most elements the 200 response's top-level JSON array holds (<c>maxItems</c>).</summary>
/// <param name="MaxItems">The bound the endpoint enforces.</param>
internal sealed record DocumentedMaxItems(int MaxItems);

/// <summary>An OpenAPI tag with its description, declared by the group of endpoints that carry it.</summary>
/// <param name="Name">The tag.</param>
/// <param name="Order">Its place among the document's tags (1 first).</param>
/// <param name="Description">What the tagged operations are about.</param>
internal sealed record DocumentedTag(string Name, int Order, string Description);

/// <summary>
/// What the document says about each operation beyond what FastEndpoints.Swagger derives: the security requirement
/// (none for anonymous operations; the bearer scheme, and the API key scheme where <c>CallableWithScope</c> lets keys in),
/// a description for every problem response, deprecation, optional headers read by filters (<see cref="DocumentedHeader"/>), header names as
/// clients send them (NSwag camel-cases them, FastEndpoints issue #796), and the validator limits of query parameters.
/// </summary>
/// <param name="json">The app's JSON options (camelCase, enums snake_case, RFC 3339 date-times), for request examples.</param>
internal sealed class ApiOperationProcessor(System.Text.Json.JsonSerializerOptions json) : IOperationProcessor
{
    private static readonly Dictionary<string, string> ProblemDescriptions = new(StringComparer.Ordinal)
    {
        ["400"] = "The request is invalid: 'errors' names each field or parameter to fix.",
        ["401"] = "The access token or API key is missing, expired or invalid.",
        ["403"] = "The caller's role, or the API key's scopes, do not allow this operation.",
        ["404"] = "Not found, or not visible to the caller.",
        ["409"] = "A conflict with the stored state; read it again and retry.",
        ["412"] = "If-Match names a version that is no longer current.",
        ["413"] = "The body is over the size limit (Http:MaxRequestBodyBytes, 1 MiB by default).",
        ["415"] = "The Content-Type is not one this operation accepts.",
        ["422"] = "The Idempotency-Key was already used with a different request body.",
        ["429"] = "The caller's rate limit was reached; retry after the Retry-After seconds.",
        ["500"] = "An unexpected error; the problem's traceId identifies it in the logs.",
        ["503"] = "The database, or with RateLimiting:FailMode=Closed the shared rate-limit store, is unreachable; retry after the Retry-After seconds.",
    };

    public bool Process(OperationProcessorContext context)
    {
        var metadata = ((AspNetCoreOperationProcessorContext)context).ApiDescription.ActionDescriptor.EndpointMetadata;
        var operation = context.OperationDescription.Operation;
        var endpoint = metadata.OfType<EndpointDefinition>().FirstOrDefault();

        foreach (var (status, response) in operation.Responses)
        {
            if (ProblemDescriptions.TryGetValue(status, out var description))
            {
                response.Description = description;
            }

            DeclareRateLimitHeaders(status, response);
            if (response.Headers.TryGetValue("Link", out var link) && link.Schema is { MaxLength: null } linkSchema)
            {
                linkSchema.MaxLength = Paging.NextPageLink.MaxLength;
            }
        }

        if (metadata.OfType<DeprecatedMetadata>().FirstOrDefault() is { } deprecated)
        {
            operation.IsDeprecated = true;
            operation.Description = ($"{operation.Description}\n\nDeprecated since {deprecated.DeprecatedAt:yyyy-MM-dd}; removed on {deprecated.Sunset:yyyy-MM-dd} " +
                                     "(responses carry Deprecation and Sunset headers)." + (deprecated.Link is null ? "" : $" See {deprecated.Link}.")).TrimStart();
        }

        if (endpoint is not null)
        {
            if (endpoint.EndpointSummary?.ExampleRequest is { } example && operation.RequestBody is { } body)
            {
                // On the media type, serialized exactly as clients send it (the schema's copy goes through NSwag's settings).
                var serialized = Newtonsoft.Json.Linq.JToken.Parse(System.Text.Json.JsonSerializer.Serialize(example, example.GetType(), json));
                foreach (var mediaType in body.Content.Values)
                {
                    mediaType.Example = serialized;
                }
            }

            RestoreParameterNames(operation, endpoint.ReqDtoType);
            QueryParameterRules.Apply(operation, endpoint);
        }

        foreach (var tag in metadata.OfType<DocumentedTag>().Where(t => context.Document.Tags.All(known => known.Name != t.Name)))
        {
            context.Document.Tags.Add(new OpenApiTag
            {
                Name = tag.Name, Description = tag.Description, ExtensionData = new Dictionary<string, object?> { ["x-order"] = tag.Order },
            });
        }

        // Every resource id is a uuid (Guid v7); a route parameter the endpoint binds itself (PATCH's) is documented as a bare string.
        foreach (var id in operation.Parameters.Where(p => p is { Kind: OpenApiParameterKind.Path, Name: "id", Schema.Format: null }))
        {
            id.Schema.Format = "guid";
        }

        if (metadata.OfType<DocumentedMaxItems>().FirstOrDefault() is { } most && operation.Responses.TryGetValue("200", out var ok))
        {
            foreach (var content in ok.Content.Values.Where(c => c.Schema is { Type: NJsonSchema.JsonObjectType.Array }))
            {
                content.Schema.MaxItems = most.MaxItems;
            }
        }

        foreach (var header in metadata.OfType<DocumentedHeader>())
        {
            operation.Parameters.Add(new OpenApiParameter
            {
                Name = header.Name,
                Kind = OpenApiParameterKind.Header,
                IsRequired = false,
                Description = header.Description,
                Schema = new JsonSchema { Type = JsonObjectType.String, MinLength = 1, MaxLength = header.MaxLength },
                Example = header.Example,
            });
        }

        if (metadata.OfType<IAllowAnonymous>().Any() || !metadata.OfType<IAuthorizeData>().Any())
        {
            operation.Security = [new OpenApiSecurityRequirement()]; // an empty requirement: no credentials needed
            return true;
        }

        operation.Security = [new OpenApiSecurityRequirement { [OpenApiSetup.BearerScheme] = [] }];
        if (metadata.OfType<RequiredScope>().FirstOrDefault() is { } scope)
        {
            operation.Security.Add(new OpenApiSecurityRequirement { [OpenApiSetup.OAuth2Scheme] = [scope.Scope] });
            if (ApiScopes.All.Contains(scope.Scope))
            {
                // OpenAPI 3.0 section 4.7.30: the array of an apiKey requirement stays empty, so the scope is in the text.
                operation.Security.Add(new OpenApiSecurityRequirement { [OpenApiSetup.ApiKeyScheme] = [] });
                operation.Description = $"{operation.Description}\n\nAPI keys and apps need the scope `{scope.Scope}`.".TrimStart();
                operation.ExtensionData ??= new Dictionary<string, object?>();
                operation.ExtensionData["x-api-key-scope"] = scope.Scope;
            }
            else
            {
                operation.Description = $"{operation.Description}\n\nApps need the scope `{scope.Scope}`.".TrimStart();
            }
        }

        return true;
    }

    // Every operation is rate limited: each response says how (RateLimitHeaders), and 429 and 503 when to retry. Inline
    // in each response: NSwag writes a reference to a header component as one to its schema.
    private static void DeclareRateLimitHeaders(string status, OpenApiResponse response)
    {
        response.Headers[RateLimitHeaders.PolicyHeader] = new OpenApiHeader
        {
            Schema = new JsonSchema { Type = JsonObjectType.String, MaxLength = RateLimitHeaders.MaxLength },
            Description = "The limits this request counted against (draft-ietf-httpapi-ratelimit-headers-09): `\"default\";q=600;w=60` is " +
                          "q requests per w seconds; the credential operations add `\"credentials\";q=10;w=60`.",
        };
        response.Headers[RateLimitHeaders.StateHeader] = new OpenApiHeader
        {
            Schema = new JsonSchema { Type = JsonObjectType.String, MaxLength = RateLimitHeaders.MaxLength },
            Description = "Where the caller stands in each limit: `\"default\";r=599;t=42` is r requests left and t seconds until the window " +
                          "resets, counted across every instance. Absent while the shared rate-limit store is unreachable.",
        };
        if (status is "429" or "503")
        {
            response.Headers[Microsoft.Net.Http.Headers.HeaderNames.RetryAfter] = new OpenApiHeader
            {
                Schema = new JsonSchema { Type = JsonObjectType.Integer, Format = "int32", Minimum = 1, Maximum = RateLimitHeaders.MaxRetryAfterSeconds },
                Description = "Seconds to wait before retrying (RFC 9110 section 10.2.3).",
            };
        }
    }

    // NSwag runs header names through the JSON naming policy ("idempotency-Key"), and query names through none when
    // it builds the document before FastEndpoints has copied the app's JSON options ("Limit"); clients send them as
    // declared: headers as named, query parameters camelCase (or as [BindFrom] names them).
    private static void RestoreParameterNames(OpenApiOperation operation, Type requestType)
    {
        foreach (var parameter in operation.Parameters.Where(p => p.Kind == OpenApiParameterKind.Query))
        {
            var property = requestType.GetProperty(parameter.Name);
            parameter.Name = property?.GetCustomAttribute<BindFromAttribute>()?.Name ?? System.Text.Json.JsonNamingPolicy.CamelCase.ConvertName(parameter.Name);
        }

        var declared = requestType.GetProperties()
            .Select(p => p.GetCustomAttribute<FromHeaderAttribute>()?.HeaderName)
            .OfType<string>()
            .ToDictionary(n => n, StringComparer.OrdinalIgnoreCase);
        foreach (var parameter in operation.Parameters.Where(p => p.Kind == OpenApiParameterKind.Header))
        {
            if (declared.TryGetValue(parameter.Name, out var name))
            {
                parameter.Name = name;
            }
        }
    }
}
