using System.Net;
using Microsoft.AspNetCore.Hosting;
using SliceApi.Tests.Support;

namespace SliceApi.Tests.Infrastructure;

/// <summary>A host with small limits: 3 credential requests and 5 authenticated requests per minute.</summary>
public sealed class RateLimitedFixture : AppFixture
{
    protected override void ConfigureHost(IWebHostBuilder builder)
    {
        builder.UseSetting("RateLimiting:CredentialsPerMinute", "3");
        builder.UseSetting("RateLimiting:AuthenticatedPerMinute", "5");
    }
}

public sealed class RateLimitTests(RateLimitedFixture api) : IClassFixture<RateLimitedFixture>
{
    [Fact]
    public async Task Login_attempts_past_the_credentials_limit_get_429_with_retry_after()
    {
        var client = api.CreateAnonymousClient();
        for (var i = 0; i < 3; i++)
        {
            await client.PostAsJsonAsync("/api/v1/auth/login", new { email = "nobody@example.com", password = "wrong password" })
                .ShouldHaveStatusAsync(HttpStatusCode.Unauthorized);
        }

        var limited = await client.PostAsJsonAsync("/api/v1/auth/login", new { email = "nobody@example.com", password = "wrong password" });

        await limited.ShouldBeProblemAsync(HttpStatusCode.TooManyRequests);
        int.Parse(limited.Header("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture).ShouldBeInRange(1, 60);
    }

    [Fact]
    public async Task Each_user_has_a_limit_of_their_own()
    {
        var busy = api.ClientFor(await api.CreateUserAsync());
        var other = api.ClientFor(await api.CreateUserAsync());
        for (var i = 0; i < 5; i++)
        {
            var served = await busy.GetAsync("/api/v1/users/me").ShouldHaveStatusAsync(HttpStatusCode.OK);
            served.Header("RateLimit-Policy").ShouldBe(["\"default\";q=5;w=60"]);
            served.Header("RateLimit").Single().ShouldStartWith($"\"default\";r={4 - i};t=");
        }

        await busy.GetAsync("/api/v1/users/me").ShouldBeProblemAsync(HttpStatusCode.TooManyRequests);
        await other.GetAsync("/api/v1/users/me").ShouldHaveStatusAsync(HttpStatusCode.OK);
    }
}

public sealed class ApiKeyRateLimitTests(RateLimitedFixture api) : IClassFixture<RateLimitedFixture>
{
    private static readonly string[] ReadScope = ["tasks:read"];

    [Fact]
    public async Task Each_api_key_has_a_limit_of_its_own()
    {
        var owner = await api.CreateUserAsync();
        var keys = new List<string>();
        for (var i = 0; i < 2; i++)
        {
            var created = await api.ClientFor(owner).PostAsJsonAsync("/api/v1/api-keys", new { name = $"k{i}", scopes = ReadScope })
                .ShouldReturnAsync<SliceApi.Features.ApiKeys.CreateApiKeyResponse>(HttpStatusCode.Created);
            keys.Add(created.Key);
        }

        var first = api.CreateApiKeyClient(keys[0]);
        for (var i = 0; i < 5; i++)
        {
            await first.GetAsync("/api/v1/tasks").ShouldHaveStatusAsync(HttpStatusCode.OK);
        }

        await first.GetAsync("/api/v1/tasks").ShouldBeProblemAsync(HttpStatusCode.TooManyRequests);
        await api.CreateApiKeyClient(keys[1]).GetAsync("/api/v1/tasks").ShouldHaveStatusAsync(HttpStatusCode.OK);
    }
}
