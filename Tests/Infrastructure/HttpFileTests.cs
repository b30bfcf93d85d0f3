using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using SliceApi.Tests.Support;

namespace SliceApi.Tests.Infrastructure;

/// <summary>
/// SliceApi.http (the requests for IDE REST clients) against the routes the app serves: no request names a route that
/// does not exist, and every route has a request.
/// </summary>
public sealed partial class HttpFileTests(AppFixture api) : IClassFixture<AppFixture>
{
    [Fact]
    public void Every_request_in_SliceApi_http_names_a_route_the_api_serves()
    {
        var routes = ServedRoutes();
        var unknown = FileRequests().Where(r => !routes.Contains(r)).ToList();
        unknown.ShouldBeEmpty($"SliceApi.http names routes the API does not serve; it serves:\n{string.Join("\n", routes.Order())}");
    }

    [Fact]
    public void SliceApi_http_has_a_request_for_every_route()
    {
        var requests = FileRequests().ToHashSet();
        ServedRoutes().Where(r => !requests.Contains(r)).Order().ShouldBeEmpty("routes without a request in SliceApi.http");
    }

    // "METHOD /path/{}" for every endpoint with a route (a route parameter of any name is "{}"), but the one FastEndpoints
    // adds under a test host (_test_url_cache_).
    private HashSet<string> ServedRoutes() =>
        api.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText?.TrimStart('/').StartsWith("_test_url_cache_", StringComparison.Ordinal) != true)
            .SelectMany(e => (e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? ["GET"])
                .Select(method => $"{method} {Normalize(e.RoutePattern.RawText ?? "")}"))
            .ToHashSet();

    // "METHOD /path/{}" for every request line of SliceApi.http, its {{variables}} resolved; what stays a {{reference}}
    // (a value from an earlier response) is a route parameter.
    private static IEnumerable<string> FileRequests()
    {
        var lines = File.ReadAllLines(Path.Combine(Repository.Root, "SliceApi.http"));
        var variables = lines.Select(l => Variable().Match(l)).Where(m => m.Success)
            .ToDictionary(m => m.Groups["name"].Value, m => m.Groups["value"].Value.Trim());
        var requests = lines.Select(l => RequestLine().Match(l)).Where(m => m.Success).ToList();
        requests.Count.ShouldBeGreaterThan(20);
        foreach (var request in requests)
        {
            var url = request.Groups["url"].Value;
            for (var i = 0; i < 5; i++)
            {
                url = Reference().Replace(url, m => variables.TryGetValue(m.Groups["name"].Value, out var value) ? value : m.Value);
            }

            var path = Origin().Replace(Reference().Replace(url, "{}").Split('?')[0], "");
            yield return $"{request.Groups["method"].Value} {Normalize(path)}";
        }
    }

    private static string Normalize(string route) => "/" + RouteParameter().Replace(route.Trim('/'), "{}").ToLowerInvariant();

    [GeneratedRegex(@"^@(?<name>\w+)\s*=\s*(?<value>.+)$")]
    private static partial Regex Variable();

    [GeneratedRegex(@"^(?<method>GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS) (?<url>\S+)")]
    private static partial Regex RequestLine();

    [GeneratedRegex(@"\{\{(?<name>[^}]+)\}\}")]
    private static partial Regex Reference();

    [GeneratedRegex(@"\{[^}]*\}")]
    private static partial Regex RouteParameter();

    [GeneratedRegex(@"^[a-z]+://[^/]+", RegexOptions.IgnoreCase)]
    private static partial Regex Origin();
}
