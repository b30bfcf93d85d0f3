using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using SliceApi.Tests.Support;

namespace SliceApi.Tests.Infrastructure;

public sealed class OpenApiDocumentTests(AppFixture api) : IClassFixture<AppFixture>
{
    [Fact]
    public async Task Document_is_openapi_3_0_with_the_bearer_security_scheme()
    {
        var document = await GetDocumentAsync();

        document.GetProperty("openapi").GetString()!.ShouldStartWith("3.0"); // NSwag writes OpenAPI 3.0 (NSwag issue 3761)
        var bearer = document.GetProperty("components").GetProperty("securitySchemes").GetProperty("Bearer");
        bearer.GetProperty("type").GetString().ShouldBe("http");
        bearer.GetProperty("scheme").GetString().ShouldBe("bearer");
        bearer.GetProperty("bearerFormat").GetString().ShouldBe("JWT");
    }

    [Fact]
    public async Task Every_api_endpoint_is_documented_with_its_name_summary_statuses_and_security()
    {
        var document = await GetDocumentAsync();
        var endpoints = api.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText!.StartsWith("/api/v1", StringComparison.Ordinal))
            .ToList();
        endpoints.Count.ShouldBeGreaterThanOrEqualTo(9);

        foreach (var endpoint in endpoints)
        {
            var method = endpoint.Metadata.GetRequiredMetadata<IHttpMethodMetadata>().HttpMethods.Single().ToLowerInvariant();
            var name = endpoint.Metadata.GetRequiredMetadata<IEndpointNameMetadata>().EndpointName;
            var operation = document.GetProperty("paths").GetProperty(endpoint.RoutePattern.RawText!).GetProperty(method);

            operation.GetProperty("operationId").GetString().ShouldBe(name);
            operation.GetProperty("summary").GetString().ShouldNotBeNullOrWhiteSpace(name);
            var responses = operation.GetProperty("responses").EnumerateObject().Select(r => r.Name).ToList();
            foreach (var produced in endpoint.Metadata.OfType<IProducesResponseTypeMetadata>())
            {
                responses.ShouldContain(produced.StatusCode.ToString(System.Globalization.CultureInfo.InvariantCulture), name);
            }

            responses.ShouldContain("500", name);
            responses.ShouldContain("503", name);
            if (operation.TryGetProperty("requestBody", out _))
            {
                responses.ShouldContain("413", name);
                responses.ShouldContain("415", name);
            }

            if (endpoint.Metadata.GetMetadata<SliceApi.Infrastructure.Security.RequiredScope>() is not null)
            {
                responses.ShouldContain("403", name); // an API key without the scope
            }

            var anonymous = endpoint.Metadata.GetMetadata<IAllowAnonymous>() is not null;
            var security = operation.GetProperty("security");
            if (anonymous)
            {
                security.GetArrayLength().ShouldBe(1, name);
                security[0].EnumerateObject().ShouldBeEmpty(name); // {}: no credentials needed
            }
            else
            {
                security[0].TryGetProperty("Bearer", out _).ShouldBeTrue(name);
                responses.ShouldContain("401", name);
                operation.GetProperty("responses").GetProperty("401").GetProperty("content").TryGetProperty("application/problem+json", out _).ShouldBeTrue(name);
            }
        }
    }

    [Fact]
    public async Task Scoped_operations_accept_apps_and_api_keys_with_their_scope_and_others_only_a_bearer_token()
    {
        var document = await GetDocumentAsync();
        var apiKey = document.GetProperty("components").GetProperty("securitySchemes").GetProperty("ApiKey");
        apiKey.GetProperty("type").GetString().ShouldBe("apiKey");
        apiKey.GetProperty("in").GetString().ShouldBe("header");
        apiKey.GetProperty("name").GetString().ShouldBe("X-Api-Key");

        var create = document.GetProperty("paths").GetProperty("/api/v1/tasks").GetProperty("post").GetProperty("security");
        create.EnumerateArray().Select(r => r.EnumerateObject().Single().Name).ShouldBe(["Bearer", "OAuth2", "ApiKey"]);
        create[1].GetProperty("OAuth2").EnumerateArray().Select(s => s.GetString()).ShouldBe(["tasks:write"]);
        create[2].GetProperty("ApiKey").GetArrayLength().ShouldBe(0); // OpenAPI 3.0: scopes only for OAuth2 and OpenID Connect
        var post = document.GetProperty("paths").GetProperty("/api/v1/tasks").GetProperty("post");
        post.GetProperty("x-api-key-scope").GetString().ShouldBe("tasks:write");
        post.GetProperty("description").GetString()!.ShouldContain("tasks:write");
        var me = document.GetProperty("paths").GetProperty("/api/v1/users/me").GetProperty("get").GetProperty("security");
        me.EnumerateArray().Select(r => r.EnumerateObject().Single().Name).ShouldBe(["Bearer", "OAuth2"], "apps with profile; API keys never");
        var keys = document.GetProperty("paths").GetProperty("/api/v1/api-keys").GetProperty("get").GetProperty("security");
        keys.EnumerateArray().Select(r => r.EnumerateObject().Single().Name).ShouldBe(["Bearer"]);
        var oauth2 = document.GetProperty("components").GetProperty("securitySchemes").GetProperty("OAuth2");
        oauth2.GetProperty("type").GetString().ShouldBe("oauth2");
        var code = oauth2.GetProperty("flows").GetProperty("authorizationCode");
        code.GetProperty("authorizationUrl").GetString().ShouldBe("/oauth/authorize");
        code.GetProperty("tokenUrl").GetString().ShouldBe("/oauth/token");
        code.GetProperty("scopes").EnumerateObject().Select(p => p.Name).ShouldBe(["tasks:read", "tasks:write", "profile", "offline_access"]);
    }

    [Fact]
    public async Task Validated_endpoints_document_the_400_validation_problem_and_write_endpoints_the_403()
    {
        var document = await GetDocumentAsync();
        var create = document.GetProperty("paths").GetProperty("/api/v1/tasks").GetProperty("post");

        create.GetProperty("responses").TryGetProperty("400", out _).ShouldBeTrue();
        create.GetProperty("responses").TryGetProperty("403", out _).ShouldBeTrue();
        var status = document.GetProperty("components").GetProperty("schemas").GetProperty("TaskItemStatus").GetProperty("enum");
        status.EnumerateArray().Select(e => e.GetString()).ShouldBe(["todo", "in_progress", "done"]);
    }

    [Fact]
    public async Task Every_response_declares_the_rate_limit_headers_and_429_and_503_their_retry_after()
    {
        var document = await GetDocumentAsync();
        var responses = document.GetProperty("paths").EnumerateObject()
            .SelectMany(path => path.Value.EnumerateObject())
            .SelectMany(operation => operation.Value.GetProperty("responses").EnumerateObject())
            .ToList();

        responses.Count.ShouldBeGreaterThan(100);
        foreach (var response in responses)
        {
            var headers = response.Value.GetProperty("headers");
            headers.GetProperty("RateLimit-Policy").GetProperty("schema").GetProperty("type").GetString().ShouldBe("string");
            headers.GetProperty("RateLimit").GetProperty("schema").GetProperty("type").GetString().ShouldBe("string");
            headers.TryGetProperty("Retry-After", out _).ShouldBe(response.Name is "429" or "503", response.Name);
        }
    }

    [Theory]
    [InlineData("/swagger/index.html")]
    [InlineData("/redoc/index.html")]
    public async Task Documentation_pages_are_served_anonymously(string path)
    {
        var response = await api.CreateAnonymousClient().GetAsync(path).ShouldHaveStatusAsync(HttpStatusCode.OK);

        response.MediaType().ShouldBe("text/html");
    }

    [Theory]
    [InlineData("/swagger/index.html")]
    [InlineData("/redoc/index.html")]
    public async Task Documentation_pages_load_nothing_from_other_hosts(string path)
    {
        var html = await (await api.CreateAnonymousClient().GetAsync(path).ShouldHaveStatusAsync(HttpStatusCode.OK)).ReadAsTextAsync();

        html.ShouldNotContain("http://");
        html.ShouldNotContain("https://");
        html.ShouldContain("SliceApi");
    }

    [Theory]
    [InlineData("/swagger/index.html")] // NSwag's page holds its configuration inline
    [InlineData("/redoc/index.js")]
    public async Task Documentation_pages_load_the_served_document(string script)
    {
        var response = await api.CreateAnonymousClient().GetAsync(script).ShouldHaveStatusAsync(HttpStatusCode.OK);

        (await response.ReadAsTextAsync()).ShouldContain("/openapi/v1.json");
    }

    [Fact]
    public async Task Every_request_body_has_an_example()
    {
        var document = await GetDocumentAsync();
        var bodies = 0;
        foreach (var path in document.GetProperty("paths").EnumerateObject())
        {
            foreach (var operation in path.Value.EnumerateObject().Where(o => o.Value.TryGetProperty("requestBody", out _)))
            {
                foreach (var mediaType in operation.Value.GetProperty("requestBody").GetProperty("content").EnumerateObject())
                {
                    mediaType.Value.TryGetProperty("example", out var example).ShouldBeTrue($"{operation.Name} {path.Name} {mediaType.Name}");
                    example.ValueKind.ShouldBe(JsonValueKind.Object);
                    bodies++;
                }
            }
        }

        bodies.ShouldBeGreaterThanOrEqualTo(11);
    }

    [Fact]
    public async Task The_validators_limits_are_in_the_schemas_and_query_parameters()
    {
        var document = await GetDocumentAsync();
        var schemas = document.GetProperty("components").GetProperty("schemas");
        var title = schemas.GetProperty("CreateTaskRequest").GetProperty("properties").GetProperty("title");
        title.GetProperty("minLength").GetInt32().ShouldBe(1);
        title.GetProperty("maxLength").GetInt32().ShouldBe(200);
        schemas.GetProperty("CreateTaskRequest").GetProperty("required").EnumerateArray().Select(e => e.GetString()).ShouldContain("title");
        schemas.GetProperty("CreateTaskRequest").GetProperty("properties").GetProperty("description").GetProperty("maxLength").GetInt32().ShouldBe(4000);
        var email = schemas.GetProperty("RegisterUserRequest").GetProperty("properties").GetProperty("email");
        email.GetProperty("format").GetString().ShouldBe("email");
        email.GetProperty("maxLength").GetInt32().ShouldBe(254);
        schemas.GetProperty("RegisterUserRequest").GetProperty("properties").GetProperty("password").GetProperty("minLength").GetInt32().ShouldBe(12);
        schemas.GetProperty("CreateApiKeyRequest").GetProperty("properties").GetProperty("scopes").GetProperty("minItems").GetInt32().ShouldBe(1);

        var parameters = document.GetProperty("paths").GetProperty("/api/v1/tasks").GetProperty("get").GetProperty("parameters").EnumerateArray()
            .ToDictionary(p => p.GetProperty("name").GetString()!, p => p.GetProperty("schema"));
        parameters["limit"].GetProperty("minimum").GetDecimal().ShouldBe(1);
        parameters["limit"].GetProperty("maximum").GetDecimal().ShouldBe(100);
        parameters["status"].GetProperty("items").GetProperty("enum").EnumerateArray().Select(e => e.GetString()).ShouldBe(["todo", "in_progress", "done"]);
        parameters["sort"].GetProperty("enum").EnumerateArray().Select(e => e.GetString()).ShouldContain("-dueAt");
        parameters["dueBefore"].GetProperty("format").GetString().ShouldBe("date-time");
        parameters["q"].GetProperty("maxLength").GetInt32().ShouldBe(200);
    }

    private async Task<JsonElement> GetDocumentAsync()
    {
        var response = await api.CreateAnonymousClient().GetAsync("/openapi/v1.json").ShouldHaveStatusAsync(HttpStatusCode.OK);
        return JsonDocument.Parse(await response.ReadAsTextAsync()).RootElement;
    }
}
