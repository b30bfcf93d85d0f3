using Alba;
using Microsoft.AspNetCore.Http;

namespace SliceApi.Tests.Support;

/// <summary>
/// One caller's Alba scenarios: every request it sends carries the caller's credentials (none, an access token or an
/// API key) and runs through <see cref="IAlbaHost.Scenario"/> against the whole pipeline. The shortcuts leave the status
/// unchecked, so the assertions of <see cref="ScenarioAssertions"/> (or the test) state it.
/// </summary>
public sealed class ScenarioClient(IAlbaHost host, Action<Scenario>? credentials = null)
{
    /// <summary>Runs a scenario as this caller; Alba expects 200 unless <paramref name="configure"/> says otherwise.</summary>
    public Task<IScenarioResult> Scenario(Action<Scenario> configure) =>
        host.Scenario(s =>
        {
            credentials?.Invoke(s);
            configure(s);
        });

    /// <summary><c>GET url</c>.</summary>
    public Task<IScenarioResult> GetAsync(string url) => Unchecked(s => s.Get.Url(url));

    /// <summary><c>GET url</c>, asserting 200 and reading the JSON body with the app's JSON options.</summary>
    public async Task<T> GetFromJsonAsync<T>(string url) => await (await Scenario(s => s.Get.Url(url))).ReadAsJsonAsync<T>();

    /// <summary><c>POST url</c> with <paramref name="body"/> as JSON.</summary>
    public Task<IScenarioResult> PostAsJsonAsync(string url, object body) => Unchecked(s => s.Post.Json(body).ToUrl(url));

    /// <summary><c>PUT url</c> with <paramref name="body"/> as JSON.</summary>
    public Task<IScenarioResult> PutAsJsonAsync(string url, object body) => Unchecked(s => s.Put.Json(body).ToUrl(url));

    /// <summary><c>PATCH url</c> with <paramref name="body"/> as <c>application/json</c>.</summary>
    public Task<IScenarioResult> PatchAsJsonAsync(string url, object body) => Unchecked(s => s.Patch.Json(body).ToUrl(url));

    /// <summary><c>GET url</c>, asserting 200, and the body as text.</summary>
    public async Task<string> GetStringAsync(string url) => await (await Scenario(s => s.Get.Url(url))).ReadAsTextAsync();

    /// <summary><c>DELETE url</c>.</summary>
    public Task<IScenarioResult> DeleteAsync(string url) => Unchecked(s => s.Delete.Url(url));

    /// <summary>Sends <paramref name="request"/> (method, URL, headers, content) as this caller.</summary>
    public Task<IScenarioResult> SendAsync(HttpRequestMessage request) =>
        request.Method == HttpMethod.Options
            ? Unchecked(s =>
            {
                // Alba's request-message mapping has no OPTIONS; a preflight carries no body, so the headers are all.
                s.Get.Url(request.RequestUri!.ToString());
                s.ConfigureHttpContext(c => c.Request.Method = HttpMethods.Options);
                foreach (var header in request.Headers)
                {
                    s.WithRequestHeader(header.Key, string.Join(", ", header.Value));
                }
            })
            : Unchecked(s => s.FromHttpRequestMessage(request));

    /// <summary>Sends <paramref name="rawBody"/> as the body, byte for byte, with the given content type.</summary>
    public Task<IScenarioResult> SendRawAsync(HttpMethod method, string url, string? rawBody, string contentType = "application/json") =>
        Unchecked(s =>
        {
            var target = method.Method switch
            {
                "POST" => s.Post,
                "PUT" => s.Put,
                "PATCH" => s.Patch,
                "DELETE" => s.Delete,
                _ => s.Get,
            };
            if (rawBody is null)
            {
                target.Url(url);
                return;
            }

            target.Text(rawBody).ContentType(contentType).ToUrl(url);
        });

    private Task<IScenarioResult> Unchecked(Action<Scenario> configure) =>
        Scenario(s =>
        {
            configure(s);
            s.IgnoreStatusCode();
        });
}
