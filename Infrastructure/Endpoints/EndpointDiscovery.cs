using System.Reflection;

namespace SliceApi.Infrastructure.Endpoints;

/// <summary>Finds every <see cref="IEndpoint"/> in the assembly and maps it under <c>/api/v{version}</c>.</summary>
internal static class EndpointDiscovery
{
    /// <summary>The path prefix of version 1 of the API.</summary>
    public const string V1Prefix = "/api/v1";

    /// <summary>Every endpoint class of this assembly, one instance each, ordered by full type name (a stable OpenAPI document).</summary>
    public static IReadOnlyList<IEndpoint> FindEndpoints() =>
        Assembly.GetExecutingAssembly().GetTypes()
            .Where(t => t is { IsAbstract: false, IsInterface: false } && typeof(IEndpoint).IsAssignableFrom(t))
            .OrderBy(t => t.FullName, StringComparer.Ordinal)
            .Select(t => (IEndpoint)Activator.CreateInstance(t)!)
            .ToList();

    /// <summary>The API versions that have endpoints, ascending (each gets a route group and an OpenAPI document).</summary>
    public static IReadOnlyList<int> Versions(IEnumerable<IEndpoint> endpoints) =>
        endpoints.Select(e => e.Version).Distinct().Order().ToList();

    /// <summary>The route prefix of <paramref name="version"/>, e.g. <c>/api/v2</c>.</summary>
    public static string Prefix(int version) => $"/api/v{version}";

    /// <summary>The OpenAPI document name of <paramref name="version"/>, e.g. <c>v2</c>.</summary>
    public static string DocumentName(int version) => $"v{version}";

    /// <summary>Maps every endpoint class of this assembly; see <see cref="MapEndpoints(WebApplication, IEnumerable{IEndpoint})"/>.</summary>
    public static WebApplication MapEndpoints(this WebApplication app) => app.MapEndpoints(FindEndpoints());

    /// <summary>
    /// Maps each endpoint into the route group of its version, <c>/api/v{n}</c>, whose OpenAPI group name is
    /// <c>v{n}</c> (so it appears in <c>/openapi/v{n}.json</c> only). Every endpoint of a group requires an
    /// authenticated caller unless it says <c>AllowAnonymous()</c> (secure by default).
    /// </summary>
    /// <remarks>
    /// The default sits on the groups, not in a fallback policy: a fallback policy also covers routing's own 405
    /// and 415 endpoints and unmatched paths, so anonymous callers would get 401 where 405, 415 or 404 is right.
    /// Versions coexist: a v2 slice can map the same path as a v1 slice; both stay reachable under their prefixes.
    /// </remarks>
    public static WebApplication MapEndpoints(this WebApplication app, IEnumerable<IEndpoint> endpoints)
    {
        var groups = new Dictionary<int, RouteGroupBuilder>();
        foreach (var endpoint in endpoints)
        {
            if (!groups.TryGetValue(endpoint.Version, out var group))
            {
                group = groups[endpoint.Version] = app.MapGroup(Prefix(endpoint.Version))
                    .RequireAuthorization()
                    .WithGroupName(DocumentName(endpoint.Version));
            }

            endpoint.Map(group);
        }

        return app;
    }
}
