using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.Extensions.Options;
using Microsoft.OpenApi;

namespace SliceApi.Infrastructure.OpenApi;

/// <summary>An example request body of an endpoint, shown in the OpenAPI document (Swagger UI pre-fills it).</summary>
/// <param name="Example">The body, serialized with the API's JSON options, so it reads exactly as clients must send it.</param>
internal sealed record RequestExampleMetadata(object Example);

/// <summary>Request examples per slice.</summary>
internal static class RequestExamples
{
    /// <summary>Documents <paramref name="example"/> as this endpoint's request body example.</summary>
    public static RouteHandlerBuilder WithRequestExample(this RouteHandlerBuilder builder, object example) =>
        builder.WithMetadata(new RequestExampleMetadata(example));

    /// <summary>Puts the endpoint's example on every media type of its request body.</summary>
    public static Task TransformOperationAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        var example = context.Description.ActionDescriptor.EndpointMetadata.OfType<RequestExampleMetadata>().FirstOrDefault();
        if (example is null || operation.RequestBody?.Content is not { Count: > 0 } content)
        {
            return Task.CompletedTask;
        }

        var json = context.ApplicationServices.GetRequiredService<IOptions<JsonOptions>>().Value.SerializerOptions;
        foreach (var mediaType in content.Values.OfType<OpenApiMediaType>())
        {
            mediaType.Example = JsonSerializer.SerializeToNode(example.Example, example.Example.GetType(), json);
        }

        return Task.CompletedTask;
    }
}
