using System.Net;
using System.Text.Json;
using Alba;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace SliceApi.Tests.Support;

/// <summary>
/// Assertions on the result of an Alba scenario. Every failure message carries the request line and the
/// response body, so a failing scenario says what the API answered.
/// </summary>
public static class ScenarioAssertions
{
    /// <summary>Asserts the status code.</summary>
    public static async Task<IScenarioResult> ShouldHaveStatusAsync(this Task<IScenarioResult> result, HttpStatusCode expected) =>
        await (await result).ShouldHaveStatusAsync(expected);

    /// <summary>Asserts the status code.</summary>
    public static async Task<IScenarioResult> ShouldHaveStatusAsync(this IScenarioResult result, HttpStatusCode expected)
    {
        if (result.StatusCode() != expected)
        {
            throw new ShouldAssertException(await DescribeAsync(result, $"Expected status {(int)expected} {expected}"));
        }

        return result;
    }

    /// <summary>Asserts the status code and <c>application/json</c>, and reads the body with the app's JSON options.</summary>
    public static async Task<T> ShouldReturnAsync<T>(this Task<IScenarioResult> result, HttpStatusCode expected = HttpStatusCode.OK) =>
        await (await result).ShouldReturnAsync<T>(expected);

    /// <inheritdoc cref="ShouldReturnAsync{T}(Task{IScenarioResult}, HttpStatusCode)"/>
    public static async Task<T> ShouldReturnAsync<T>(this IScenarioResult result, HttpStatusCode expected = HttpStatusCode.OK)
    {
        await result.ShouldHaveStatusAsync(expected);
        result.MediaType().ShouldBe("application/json", await DescribeAsync(result, "Expected a JSON body"));
        return await result.ReadAsJsonAsync<T>();
    }

    /// <summary>
    /// Asserts an RFC 9457 problem: the status, <c>application/problem+json</c>, the members type, title,
    /// status, detail, instance and traceId, and (when given) exactly these <c>errors</c> keys.
    /// </summary>
    /// <returns>The problem document.</returns>
    public static async Task<JsonElement> ShouldBeProblemAsync(this Task<IScenarioResult> result, HttpStatusCode status, params string[] errorKeys) =>
        await (await result).ShouldBeProblemAsync(status, errorKeys);

    /// <inheritdoc cref="ShouldBeProblemAsync(Task{IScenarioResult}, HttpStatusCode, string[])"/>
    public static async Task<JsonElement> ShouldBeProblemAsync(this IScenarioResult result, HttpStatusCode status, params string[] errorKeys)
    {
        await result.ShouldHaveStatusAsync(status);
        var context = await DescribeAsync(result, "Expected a problem");
        result.MediaType().ShouldBe("application/problem+json", context);
        var problem = JsonDocument.Parse(await result.ReadAsTextAsync()).RootElement;
        foreach (var member in new[] { "type", "title", "detail", "instance", "traceId" })
        {
            problem.TryGetProperty(member, out var value).ShouldBeTrue($"problem member '{member}' is missing. {context}");
            value.GetString().ShouldNotBeNullOrWhiteSpace($"problem member '{member}' is empty. {context}");
        }

        problem.GetProperty("status").GetInt32().ShouldBe((int)status, context);
        if (errorKeys.Length > 0)
        {
            problem.TryGetProperty("errors", out var errors).ShouldBeTrue($"problem has no 'errors'. {context}");
            errors.EnumerateObject().Select(p => p.Name).Order().ShouldBe(errorKeys.Order(), context);
        }

        return problem;
    }

    /// <summary>Asserts a header's value (several values joined with ", ").</summary>
    public static async Task<IScenarioResult> ShouldHaveHeaderAsync(this IScenarioResult result, string name, string expected)
    {
        string.Join(", ", result.Header(name)).ShouldBe(expected, await DescribeAsync(result, $"Expected header {name}: {expected}"));
        return result;
    }

    /// <summary>The response status.</summary>
    public static HttpStatusCode StatusCode(this IScenarioResult result) => (HttpStatusCode)result.Context.Response.StatusCode;

    /// <summary>The values of response header <paramref name="name"/>; empty when absent.</summary>
    public static string[] Header(this IScenarioResult result, string name) =>
        [.. result.Context.Response.Headers[name].OfType<string>()];

    /// <summary>Whether the response has header <paramref name="name"/>.</summary>
    public static bool HasHeader(this IScenarioResult result, string name) => result.Context.Response.Headers.ContainsKey(name);

    /// <summary>The response's ETag, parsed (RFC 9110 section 8.8.3), or null.</summary>
    public static EntityTagHeaderValue? ETag(this IScenarioResult result) => result.Context.Response.GetTypedHeaders().ETag;

    /// <summary>The response's Cache-Control, parsed, or null.</summary>
    public static CacheControlHeaderValue? CacheControl(this IScenarioResult result) => result.Context.Response.GetTypedHeaders().CacheControl;

    /// <summary>The response's Location as sent, or null.</summary>
    public static string? Location(this IScenarioResult result) => result.Context.Response.Headers.Location.FirstOrDefault();

    /// <summary>The response's WWW-Authenticate challenges as sent (RFC 9110 section 11.6.1), joined with ", "; empty when absent.</summary>
    public static string WwwAuthenticate(this IScenarioResult result) => string.Join(", ", result.Header(HeaderNames.WWWAuthenticate));

    /// <summary>The media type of the response's Content-Type, without parameters, or null.</summary>
    public static string? MediaType(this IScenarioResult result) =>
        MediaTypeHeaderValue.TryParse(result.Context.Response.ContentType, out var type) ? type.MediaType.Value : null;

    private static async Task<string> DescribeAsync(IScenarioResult result, string expectation)
    {
        var request = result.Context.Request;
        var response = result.Context.Response;
        var body = await result.ReadAsTextAsync();
        return $"{expectation}; {request.Method} {request.Path}{request.QueryString} answered {response.StatusCode} " +
               $"({response.ContentType}) with body: {(body.Length == 0 ? "<empty>" : body)}";
    }
}
