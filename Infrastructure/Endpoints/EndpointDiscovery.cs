using System.Reflection;

namespace SliceApi.Infrastructure.Endpoints;

/// <summary>Finds every <see cref="IEndpoint"/> in the assembly and maps it under <c>/api/v1</c>.</summary>
internal static class EndpointDiscovery
{
    /// <summary>The path prefix of version 1 of the API.</summary>
    public const string V1Prefix = "/api/v1";

    /// <summary>
    /// Maps every endpoint class, ordered by full type name so the OpenAPI document is stable
    /// from build to build. Every endpoint of the group requires an authenticated caller unless it
    /// says <c>AllowAnonymous()</c> (secure by default).
    /// </summary>
    /// <remarks>
    /// The default sits on the group, not in a fallback policy: a fallback policy also covers
    /// routing's own 405 and 415 endpoints and unmatched paths, so anonymous callers would get 401
    /// where 405, 415 or 404 is the right answer.
    /// </remarks>
    /// <returns>The <c>/api/v1</c> route group.</returns>
    public static RouteGroupBuilder MapEndpoints(this WebApplication app)
    {
        var v1 = app.MapGroup(V1Prefix).RequireAuthorization();
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
