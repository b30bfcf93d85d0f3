using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Shouldly;

namespace SliceApi.Tests.Support;

/// <summary>
/// Alba-style assertions on HTTP responses. Every failure message carries the request line and the
/// response body, so a failing scenario says what the API answered.
/// </summary>
public static class Scenario
{
    /// <summary>The API's JSON contract: camelCase, enums as snake_case strings.</summary>
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    /// <summary>Sends <paramref name="rawJson"/> as the body, byte for byte, with the given content type.</summary>
    public static Task<HttpResponseMessage> SendRawAsync(this HttpClient client, HttpMethod method, string url, string? rawJson, string contentType = "application/json")
    {
        var request = new HttpRequestMessage(method, url);
        if (rawJson is not null)
        {
            request.Content = new StringContent(rawJson, Encoding.UTF8);
            request.Content.Headers.ContentType = new(contentType);
        }

        return client.SendAsync(request);
    }

    /// <summary>Asserts the status code.</summary>
    public static async Task<HttpResponseMessage> ShouldHaveStatusAsync(this Task<HttpResponseMessage> response, HttpStatusCode expected) =>
        await (await response).ShouldHaveStatusAsync(expected);

    /// <summary>Asserts the status code.</summary>
    public static async Task<HttpResponseMessage> ShouldHaveStatusAsync(this HttpResponseMessage response, HttpStatusCode expected)
    {
        if (response.StatusCode != expected)
        {
            throw new ShouldAssertException(await DescribeAsync(response, $"Expected status {(int)expected} {expected}"));
        }

        return response;
    }

    /// <summary>Asserts the status code and reads the JSON body as <typeparamref name="T"/>.</summary>
    public static async Task<T> ShouldReturnAsync<T>(this Task<HttpResponseMessage> response, HttpStatusCode expected = HttpStatusCode.OK) =>
        await (await response).ShouldReturnAsync<T>(expected);

    /// <inheritdoc cref="ShouldReturnAsync{T}(Task{HttpResponseMessage}, HttpStatusCode)"/>
    public static async Task<T> ShouldReturnAsync<T>(this HttpResponseMessage response, HttpStatusCode expected = HttpStatusCode.OK)
    {
        var message = await response.ShouldHaveStatusAsync(expected);
        message.Content.Headers.ContentType?.MediaType.ShouldBe("application/json", await DescribeAsync(message, "Expected a JSON body"));
        return (await message.Content.ReadFromJsonAsync<T>(Json))!;
    }

    /// <summary>
    /// Asserts an RFC 9457 problem: the status, <c>application/problem+json</c>, the members type, title,
    /// status, detail, instance and traceId, and (when given) exactly these <c>errors</c> keys.
    /// </summary>
    /// <returns>The problem document.</returns>
    public static async Task<JsonElement> ShouldBeProblemAsync(this Task<HttpResponseMessage> response, HttpStatusCode status, params string[] errorKeys) =>
        await (await response).ShouldBeProblemAsync(status, errorKeys);

    /// <inheritdoc cref="ShouldBeProblemAsync(Task{HttpResponseMessage}, HttpStatusCode, string[])"/>
    public static async Task<JsonElement> ShouldBeProblemAsync(this HttpResponseMessage response, HttpStatusCode status, params string[] errorKeys)
    {
        await response.ShouldHaveStatusAsync(status);
        var context = await DescribeAsync(response, "Expected a problem");
        response.Content.Headers.ContentType?.MediaType.ShouldBe("application/problem+json", context);
        var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
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

    /// <summary>Asserts a header's single value.</summary>
    public static async Task<HttpResponseMessage> ShouldHaveHeaderAsync(this HttpResponseMessage response, string name, string expected)
    {
        var values = response.Headers.TryGetValues(name, out var h) ? h : response.Content.Headers.TryGetValues(name, out var c) ? c : [];
        string.Join(", ", values).ShouldBe(expected, await DescribeAsync(response, $"Expected header {name}: {expected}"));
        return response;
    }

    private static async Task<string> DescribeAsync(HttpResponseMessage response, string expectation)
    {
        var request = response.RequestMessage;
        var body = await response.Content.ReadAsStringAsync();
        return $"{expectation}; {request?.Method} {request?.RequestUri?.PathAndQuery} answered {(int)response.StatusCode} {response.StatusCode} " +
               $"({response.Content.Headers.ContentType}) with body: {(body.Length == 0 ? "<empty>" : body)}";
    }
}
