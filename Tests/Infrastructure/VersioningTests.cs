using System.Globalization;
using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using FastEndpoints;
using Microsoft.AspNetCore.Http.HttpResults;
using SliceApi.Infrastructure.Endpoints;
using SliceApi.Infrastructure.OpenApi;
using SliceApi.Tests.Support;

namespace SliceApi.Tests.Infrastructure;

/// <summary>
/// API versions and deprecation, on a host that maps a v1 slice (deprecated) and its v2 replacement, FastEndpoints
/// endpoints of this test assembly, through the same endpoint, OpenAPI and deprecation setup the app uses; and on the
/// app itself, which has only v1.
/// </summary>
public sealed class VersioningTests(AppFixture api) : IClassFixture<AppFixture>, IAsyncLifetime
{
    private static readonly DateTimeOffset DeprecatedAt = new(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset Sunset = new(2027, 6, 1, 0, 0, 0, TimeSpan.Zero);
    private IAlbaHost? host;
    private ScenarioClient client = null!;

    public async ValueTask InitializeAsync()
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Testing" });
        builder.Services.AddAuthorization();
        builder.Services.AddProblemDetails();
        builder.Services.AddApiEndpoints(typeof(VersioningTests).Assembly);
        builder.Services.AddApiDocumentation([1, 2]);
        host = await AlbaHost.For(builder, app =>
        {
            app.UseAuthorization();
            app.UseDeprecationHeaders();
            app.UseApiEndpoints();
            app.UseApiDocumentation();
        });
        client = new ScenarioClient(host);
    }

    public async ValueTask DisposeAsync()
    {
        if (host is not null)
        {
            await host.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_v2_slice_and_the_v1_slice_it_replaces_answer_side_by_side()
    {
        (await client.GetFromJsonAsync<JsonElement>("/api/v1/things/7")).GetProperty("version").GetInt32().ShouldBe(1);
        (await client.GetFromJsonAsync<JsonElement>("/api/v2/things/7")).GetProperty("version").GetInt32().ShouldBe(2);
    }

    [Theory]
    [InlineData("/api/v1/things/7", HttpStatusCode.OK)]
    [InlineData("/api/v1/things/0", HttpStatusCode.NotFound)]
    public async Task Every_response_of_a_deprecated_endpoint_carries_deprecation_sunset_and_link(string url, HttpStatusCode status)
    {
        var response = await client.GetAsync(url);

        response.StatusCode().ShouldBe(status);
        response.Header("Deprecation").ShouldBe(["@" + DeprecatedAt.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture)]);
        response.Header("Sunset").ShouldBe(["Tue, 01 Jun 2027 00:00:00 GMT"]);
        response.Header("Link").ShouldBe(["</api/v2/things/{id}>; rel=\"deprecation\""]);
    }

    [Fact]
    public async Task The_replacement_is_not_deprecated()
    {
        var response = await client.GetAsync("/api/v2/things/7");

        response.HasHeader("Deprecation").ShouldBeFalse();
        response.HasHeader("Sunset").ShouldBeFalse();
    }

    [Fact]
    public async Task Each_version_has_its_own_document_and_the_deprecated_operation_is_marked()
    {
        var v1 = await client.GetFromJsonAsync<JsonElement>("/openapi/v1.json");
        var v2 = await client.GetFromJsonAsync<JsonElement>("/openapi/v2.json");

        v1.GetProperty("info").GetProperty("version").GetString().ShouldBe("v1");
        v1.GetProperty("paths").EnumerateObject().Select(p => p.Name).ShouldBe(["/api/v1/things/{id}"]);
        var operation = v1.GetProperty("paths").GetProperty("/api/v1/things/{id}").GetProperty("get");
        operation.GetProperty("deprecated").GetBoolean().ShouldBeTrue();
        operation.GetProperty("description").GetString()!.ShouldContain("2027-06-01");
        v2.GetProperty("info").GetProperty("version").GetString().ShouldBe("v2");
        v2.GetProperty("paths").EnumerateObject().Select(p => p.Name).ShouldBe(["/api/v2/things/{id}"]);
        v2.GetProperty("paths").GetProperty("/api/v2/things/{id}").GetProperty("get").TryGetProperty("deprecated", out _).ShouldBeFalse();
        (await client.GetAsync("/openapi/v3.json")).StatusCode().ShouldBe(HttpStatusCode.NotFound);
    }

    [Fact]
    public void A_sunset_before_the_deprecation_is_refused_when_mapping()
    {
        Should.Throw<ArgumentException>(() => new RouteGroupBuilderStub().Deprecated(Sunset, DeprecatedAt));
    }

    [Fact]
    public async Task The_app_serves_one_document_per_version_it_has_and_every_route_is_versioned()
    {
        var anonymous = api.CreateAnonymousClient();
        var v1 = await anonymous.GetFromJsonAsync<JsonElement>("/openapi/v1.json");

        v1.GetProperty("paths").EnumerateObject().ShouldAllBe(p => p.Name.StartsWith("/api/v1/", StringComparison.Ordinal));
        (await anonymous.GetAsync("/openapi/v2.json")).StatusCode().ShouldBe(HttpStatusCode.NotFound);
    }

    /// <summary>Route of the things.</summary>
    public sealed class ThingRequest
    {
        /// <summary>The thing's number.</summary>
        public int Id { get; set; }
    }

    private sealed class ThingV1 : Endpoint<ThingRequest, Results<Ok<ThingResponse>, ProblemHttpResult>>
    {
        public override void Configure()
        {
            Get("things/{id}");
            AllowAnonymous();
            Options(b => b.Deprecated(DeprecatedAt, Sunset, "/api/v2/things/{id}"));
            Summary(s => s.Summary = "A thing, the v1 way");
        }

        public override Task<Results<Ok<ThingResponse>, ProblemHttpResult>> ExecuteAsync(ThingRequest req, CancellationToken ct) =>
            Task.FromResult<Results<Ok<ThingResponse>, ProblemHttpResult>>(req.Id == 0
                ? TypedResults.Problem(statusCode: StatusCodes.Status404NotFound)
                : TypedResults.Ok(new ThingResponse(1, req.Id)));
    }

    private sealed class ThingV2 : Endpoint<ThingRequest, Ok<ThingResponse>>
    {
        public override void Configure()
        {
            Get("things/{id}");
            Version(2);
            AllowAnonymous();
            Summary(s => s.Summary = "A thing, the v2 way");
        }

        public override Task<Ok<ThingResponse>> ExecuteAsync(ThingRequest req, CancellationToken ct) => Task.FromResult(TypedResults.Ok(new ThingResponse(2, req.Id)));
    }

    /// <summary>A thing.</summary>
    /// <param name="Version">The API version that answered.</param>
    /// <param name="Id">The thing's number.</param>
    public sealed record ThingResponse(int Version, int Id);

    private sealed class RouteGroupBuilderStub : IEndpointConventionBuilder
    {
        public void Add(Action<EndpointBuilder> convention)
        {
        }
    }
}
