using System.Net;
using System.Text.Json;
using SliceApi.Tests.Support;

namespace SliceApi.Tests.Features.FeatureName;

/// <summary><c>VERB /api/v1/slice-route</c> through the whole pipeline, against PostgreSQL.</summary>
public sealed class UseCaseNameTests(AppFixture api) : IClassFixture<AppFixture>
{
    private const string Url = "/api/v1/slice-test-url";

    [Fact]
    public async Task UseCaseName_without_an_access_token_returns_401_problem() =>
        await SendAsync(api.CreateAnonymousClient(), "Hello").ShouldBeProblemAsync(HttpStatusCode.Unauthorized);

    [Fact]
    public async Task UseCaseName_with_an_empty_name_returns_a_validation_problem_naming_it()
    {
        var user = await api.CreateUserAsync();
        await SendAsync(api.ClientFor(user), "").ShouldBeProblemAsync(HttpStatusCode.BadRequest, "name");
    }

    [Fact]
    public async Task UseCaseName_returns_the_trimmed_name()
    {
        var user = await api.CreateUserAsync();
        var response = await SendAsync(api.ClientFor(user), "  Hello  ").ShouldReturnAsync<JsonElement>();
        response.GetProperty("name").GetString().ShouldBe("Hello");
    }

    private static Task<IScenarioResult> SendAsync(ScenarioClient client, string name) =>
#if (verb == "get")
        client.GetAsync($"{Url}?name={Uri.EscapeDataString(name)}");
#elif (verb == "delete")
        client.DeleteAsync($"{Url}?name={Uri.EscapeDataString(name)}");
#elif (verb == "put")
        client.PutAsJsonAsync(Url, new { name });
#elif (verb == "patch")
        client.PatchAsJsonAsync(Url, new { name });
#else
        client.PostAsJsonAsync(Url, new { name });
#endif
}
