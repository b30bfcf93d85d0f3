using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using SliceApi.Features.Tasks;
using SliceApi.Tests.Support;

namespace SliceApi.Tests.Infrastructure;

public sealed class ResponseHeaderAndBodyLimitTests(AppFixture api) : IClassFixture<AppFixture>
{
    [Theory]
    [InlineData("/health/live")]
    [InlineData("/api/v1/no-such-thing")]
    [InlineData("/api/v1/users/me")]
    public async Task Every_response_carries_the_owasp_rest_security_headers(string path)
    {
        var response = await api.CreateAnonymousClient().GetAsync(path);

        response.Header("X-Content-Type-Options").ShouldBe(["nosniff"]);
        response.Header("Content-Security-Policy").ShouldBe(["frame-ancestors 'none'"]);
        response.Header("X-Frame-Options").ShouldBe(["DENY"]);
        response.CacheControl()!.NoStore.ShouldBeTrue(); // health probes add no-cache of their own
    }

    [Fact]
    public async Task A_task_keeps_its_own_cache_control_for_revalidation()
    {
        var user = await api.CreateUserAsync();
        var task = await api.CreateTaskAsync(user.Id, "Cached");

        var response = await api.ClientFor(user).GetAsync($"/api/v1/tasks/{task.Id}").ShouldHaveStatusAsync(HttpStatusCode.OK);

        response.Header("Cache-Control").ShouldBe(["private, no-cache"]);
    }

    [Theory]
    [InlineData("/swagger/index.html")]
    [InlineData("/redoc/index.html")]
    public async Task The_documentation_pages_have_a_policy_of_their_own_that_admits_their_inline_scripts_by_hash(string path)
    {
        var response = await api.CreateAnonymousClient().GetAsync(path).ShouldHaveStatusAsync(HttpStatusCode.OK);

        var policy = response.Header("Content-Security-Policy").ShouldHaveSingleItem();
        policy.ShouldStartWith("default-src 'self'; script-src 'self' 'sha256-");
        policy.ShouldContain("frame-ancestors 'none'");
        policy.Split(';')[1].ShouldNotContain("unsafe"); // scripts by hash only; styles may be inline
        var html = await response.ReadAsTextAsync();
        var inline = System.Text.RegularExpressions.Regex.Match(html, "<script>(.*?)</script>", System.Text.RegularExpressions.RegexOptions.Singleline).Groups[1].Value;
        var hash = Convert.ToBase64String(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(inline.Replace("\r\n", "\n", StringComparison.Ordinal))));
        policy.ShouldContain($"'sha256-{hash}'");
    }

    [Fact]
    public async Task A_body_over_one_mebibyte_is_refused_with_413_problem_and_nothing_is_stored()
    {
        var user = await api.CreateUserAsync();

        var response = await api.ClientFor(user).PostAsJsonAsync("/api/v1/tasks", new { title = "big", description = new string('x', 1024 * 1024) });

        await response.ShouldBeProblemAsync(HttpStatusCode.RequestEntityTooLarge);
        (await api.FindAsync<TaskItem>(t => t.OwnerId == user.Id)).ShouldBeEmpty();
    }

    [Fact]
    public async Task Without_configured_origins_a_preflight_gets_no_cors_grant()
    {
        var response = await api.CreateAnonymousClient().SendAsync(Preflight("https://evil.example"));

        response.HasHeader("Access-Control-Allow-Origin").ShouldBeFalse();
    }

    internal static HttpRequestMessage Preflight(string origin)
    {
        var request = new HttpRequestMessage(HttpMethod.Options, "/api/v1/tasks");
        request.Headers.Add("Origin", origin);
        request.Headers.Add("Access-Control-Request-Method", "POST");
        request.Headers.Add("Access-Control-Request-Headers", "authorization,content-type");
        return request;
    }
}

/// <summary>A host with HTTPS required, one trusted proxy (10.0.0.5), one CORS origin, and connections that appear to come from <see cref="RemoteIp"/>.</summary>
public sealed class HardenedFixture : AppFixture
{
    public const string Origin = "https://app.example.com";

    public static string RemoteIp { get; set; } = "10.0.0.5";

    protected override void ConfigureHost(IWebHostBuilder builder)
    {
        builder.UseSetting("Http:RequireHttps", "true");
        builder.UseSetting("Http:KnownProxies:0", "10.0.0.5");
        builder.UseSetting("Http:CorsOrigins:0", Origin);
        builder.ConfigureTestServices(services => services.AddSingleton<IStartupFilter, RemoteAddressFilter>());
    }

    // TestServer has no client address; this stands in for the socket's peer.
    private sealed class RemoteAddressFilter : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use((context, nextMiddleware) =>
            {
                context.Connection.RemoteIpAddress = IPAddress.Parse(context.Request.Headers["X-Test-Peer"].FirstOrDefault() ?? RemoteIp);
                return nextMiddleware(context);
            });
            next(app);
        };
    }
}

public sealed class HttpsAndCorsTests(HardenedFixture api) : IClassFixture<HardenedFixture>
{
    [Fact]
    public async Task Plain_http_is_redirected_to_https_with_308()
    {
        var client = api.CreateAnonymousClient();

        var response = await client.GetAsync("/health/live");

        response.StatusCode().ShouldBe(HttpStatusCode.PermanentRedirect);
        response.Location()!.ToString().ShouldBe("https://localhost/health/live");
    }

    [Fact]
    public async Task Https_responses_carry_hsts()
    {
        var client = api.CreateHttpsClient();

        var response = await client.GetAsync("/health/live").ShouldHaveStatusAsync(HttpStatusCode.OK);

        response.Header("Strict-Transport-Security").Single().ShouldBe("max-age=31536000; includeSubDomains");
    }

    [Fact]
    public async Task X_Forwarded_Proto_is_believed_only_from_a_configured_proxy()
    {
        var client = api.CreateAnonymousClient();
        var fromProxy = new HttpRequestMessage(HttpMethod.Get, "/health/live") { Headers = { { "X-Forwarded-Proto", "https" }, { "X-Test-Peer", "10.0.0.5" } } };
        var fromStranger = new HttpRequestMessage(HttpMethod.Get, "/health/live") { Headers = { { "X-Forwarded-Proto", "https" }, { "X-Test-Peer", "192.0.2.7" } } };

        (await client.SendAsync(fromProxy)).StatusCode().ShouldBe(HttpStatusCode.OK);
        (await client.SendAsync(fromStranger)).StatusCode().ShouldBe(HttpStatusCode.PermanentRedirect);
    }

    [Fact]
    public async Task A_preflight_from_a_configured_origin_is_granted()
    {
        var client = api.CreateHttpsClient();

        var response = await client.SendAsync(ResponseHeaderAndBodyLimitTests.Preflight(HardenedFixture.Origin));

        response.StatusCode().ShouldBe(HttpStatusCode.NoContent);
        response.Header("Access-Control-Allow-Origin").Single().ShouldBe(HardenedFixture.Origin);
        response.Header("Access-Control-Allow-Methods").Single().ShouldContain("POST");
        response.Header("Access-Control-Allow-Headers").Single().ToLowerInvariant().ShouldContain("authorization");
    }

    [Fact]
    public async Task A_preflight_from_another_origin_is_not_granted()
    {
        var client = api.CreateHttpsClient();

        var response = await client.SendAsync(ResponseHeaderAndBodyLimitTests.Preflight("https://evil.example"));

        response.HasHeader("Access-Control-Allow-Origin").ShouldBeFalse();
    }
}
