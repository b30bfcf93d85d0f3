using System.Reflection;

namespace SliceApi.Infrastructure.Endpoints;

/// <summary>Finds every <see cref="IEndpoint"/> in the assembly and maps it under <c>/api/v1</c>.</summary>
internal static class EndpointDiscovery
{
    /// <summary>The path prefix of version 1 of the API.</summary>
    public const string V1Prefix = "/api/v1";

    /// <summary>
    /// Maps every endpoint class, ordered by full type name so the OpenAPI document is stable
    /// from build to build.
    /// </summary>
    /// <returns>The <c>/api/v1</c> route group.</returns>
    public static RouteGroupBuilder MapEndpoints(this WebApplication app)
    {
        var v1 = app.MapGroup(V1Prefix);
        var endpointTypes = Assembly.GetExecutingAssembly().GetTypes()
            .Where(t => t is { IsAbstract: false, IsInterface: false } && typeof(IEndpoint).IsAssignableFrom(t))
            .OrderBy(t => t.FullName, StringComparer.Ordinal);

        foreach (var type in endpointTypes)
        {
            ((IEndpoint)Activator.CreateInstance(type)!).Map(v1);
        }

        return v1;
    }
}
