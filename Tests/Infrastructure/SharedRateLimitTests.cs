using System.Diagnostics.Metrics;
using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using Alba;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using SliceApi.Tests.Support;

namespace SliceApi.Tests.Infrastructure;

/// <summary>
/// Two app instances on one database and one Redis of their own (RateLimiting:Store=Redis, fail mode open), as two
/// servers behind a load balancer: 6 authenticated and 4 credential requests per minute.
/// </summary>
public sealed class SharedRateLimitFixture : AppFixture
{
    /// <summary>The shared store.</summary>
    public TestRedisServer Redis { get; private set; } = null!;

    /// <summary>The second instance.</summary>
    public IAlbaHost Second { get; private set; } = null!;

    /// <summary>What both instances logged.</summary>
    public CapturedLogs Logs { get; } = new();

    public override async ValueTask InitializeAsync()
    {
        Redis = await TestRedisServer.StartNewAsync();
        await base.InitializeAsync();
        Second = await StartHostAsync();
    }

    public override async ValueTask DisposeAsync()
    {
        await Second.DisposeAsync();
        await base.DisposeAsync();
        await Redis.DisposeAsync();
    }

    protected override void ConfigureHost(IWebHostBuilder builder)
    {
        builder.UseSetting("RateLimiting:Store", "Redis");
        builder.UseSetting("RateLimiting:Redis", Redis.Configuration);
        builder.UseSetting("RateLimiting:AuthenticatedPerMinute", "6");
        builder.UseSetting("RateLimiting:CredentialsPerMinute", "4");
        builder.UseSetting("Logging:LogLevel:SliceApi.Infrastructure.Http", "Information");
        builder.ConfigureServices(services => services.AddSingleton<ILoggerProvider>(Logs));
    }
}

public sealed partial class SharedRateLimitTests(SharedRateLimitFixture api) : IClassFixture<SharedRateLimitFixture>
{
    [Fact]
    public async Task Two_instances_count_against_one_window()
    {
        var user = await api.CreateUserAsync();
        var first = api.ClientFor(user);
        var second = new ScenarioClient(api.Second, s => s.WithBearerToken(user.AccessToken));
        var remaining = new List<long>();
        for (var i = 0; i < 6; i++)
        {
            var served = await (i % 2 == 0 ? first : second).GetAsync("/api/v1/users/me").ShouldHaveStatusAsync(HttpStatusCode.OK);
            remaining.Add(State(served).Remaining);
        }

        remaining.ShouldBe([5, 4, 3, 2, 1, 0]);
        foreach (var client in new[] { first, second })
        {
            var limited = await client.GetAsync("/api/v1/users/me");
            await limited.ShouldBeProblemAsync(HttpStatusCode.TooManyRequests);
            int.Parse(limited.Header("Retry-After").Single(), CultureInfo.InvariantCulture).ShouldBeInRange(1, 60);
            State(limited).Remaining.ShouldBe(0);
        }
    }

    [Fact]
    public async Task Every_limited_response_states_the_policy_and_the_window()
    {
        var served = await api.ClientFor(await api.CreateUserAsync()).GetAsync("/api/v1/users/me").ShouldHaveStatusAsync(HttpStatusCode.OK);

        served.Header("RateLimit-Policy").ShouldBe(["\"default\";q=6;w=60"]);
        var state = State(served);
        state.Policy.ShouldBe("default");
        state.Remaining.ShouldBe(5);
        state.ResetSeconds.ShouldBeInRange(1, 60, string.Join(", ", served.Header("RateLimit")));
    }

    [Fact]
    public async Task Credential_endpoints_report_both_limits_and_share_theirs_across_instances()
    {
        var clients = new[] { api.CreateAnonymousClient(), new ScenarioClient(api.Second) };
        for (var i = 0; i < 4; i++)
        {
            var refused = await clients[i % 2].PostAsJsonAsync("/api/v1/auth/login", new { email = "nobody@example.com", password = "wrong password" })
                .ShouldHaveStatusAsync(HttpStatusCode.Unauthorized);
            refused.Header("RateLimit-Policy").Single().ShouldBe("\"default\";q=100000;w=60, \"credentials\";q=4;w=60");
            refused.Header("RateLimit").Single().ShouldContain($"\"credentials\";r={3 - i};t=");
        }

        await clients[0].PostAsJsonAsync("/api/v1/auth/login", new { email = "nobody@example.com", password = "wrong password" })
            .ShouldBeProblemAsync(HttpStatusCode.TooManyRequests);
    }

    [Fact]
    public async Task Without_the_store_requests_are_served_the_outage_is_logged_once_per_instance_and_counted()
    {
        var user = await api.CreateUserAsync();
        var clients = new[] { api.ClientFor(user), new ScenarioClient(api.Second, s => s.WithBearerToken(user.AccessToken)) };
        var factories = new[] { api.Services.GetRequiredService<IMeterFactory>(), api.Second.Services.GetRequiredService<IMeterFactory>() };
        long failures = 0;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Name == "sliceapi.rate_limit.store_failures" && factories.Contains(instrument.Meter.Scope))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref failures, value));
        listener.Start();

        await api.Redis.StopAsync();
        try
        {
            for (var i = 0; i < 8; i++)
            {
                var served = await clients[i % 2].GetAsync("/api/v1/users/me").ShouldHaveStatusAsync(HttpStatusCode.OK);
                served.HasHeader("RateLimit").ShouldBeFalse();
            }

            Interlocked.Read(ref failures).ShouldBe(8);
            api.Logs.Lines.Count(l => l.Level == LogLevel.Warning && l.Message.StartsWith("The rate-limit store is unreachable", StringComparison.Ordinal))
                .ShouldBe(2);
        }
        finally
        {
            await api.Redis.StartAsync();
        }

        // StackExchange.Redis reconnects in the background; then the limits count again, on both instances.
        var fresh = await api.CreateUserAsync();
        foreach (var host in new[] { api.Host, api.Second })
        {
            var client = new ScenarioClient(host, s => s.WithBearerToken(fresh.AccessToken));
            var deadline = DateTime.UtcNow.AddSeconds(30);
            var counted = false;
            while (!counted && DateTime.UtcNow < deadline)
            {
                counted = (await client.GetAsync("/api/v1/users/me")).HasHeader("RateLimit");
                if (!counted)
                {
                    await Task.Delay(200);
                }
            }

            counted.ShouldBeTrue("an instance did not use the store again within 30 s");
        }

        // The end of the outage is logged once per instance, by the first success a second after the last failure.
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (api.Logs.Lines.Count(l => l.Message == "The rate-limit store answers again; limits are enforced") < 2 && clock.Elapsed < TimeSpan.FromSeconds(10))
        {
            await new ScenarioClient(api.Host, s => s.WithBearerToken(fresh.AccessToken)).GetAsync("/api/v1/users/me");
            await new ScenarioClient(api.Second, s => s.WithBearerToken(fresh.AccessToken)).GetAsync("/api/v1/users/me");
            await Task.Delay(100);
        }

        api.Logs.Lines.Count(l => l.Level == LogLevel.Information && l.Message == "The rate-limit store answers again; limits are enforced").ShouldBe(2);
    }

    private static (string Policy, long Remaining, int ResetSeconds) State(IScenarioResult result)
    {
        var match = StateItem().Match(result.Header("RateLimit").Single());
        match.Success.ShouldBeTrue(string.Join(", ", result.Header("RateLimit")));
        return (match.Groups[1].Value, long.Parse(match.Groups[2].Value, CultureInfo.InvariantCulture), int.Parse(match.Groups[3].Value, CultureInfo.InvariantCulture));
    }

    [GeneratedRegex("^\"([a-z]+)\";r=([0-9]+);t=([0-9]+)$")]
    private static partial Regex StateItem();
}

/// <summary>An instance whose shared store never answers (nothing listens on its port), with fail mode closed.</summary>
public sealed class ClosedRateLimitFixture : AppFixture
{
    protected override void ConfigureHost(IWebHostBuilder builder)
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var unused = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        builder.UseSetting("RateLimiting:Store", "Redis");
        builder.UseSetting("RateLimiting:Redis", $"127.0.0.1:{unused}");
        builder.UseSetting("RateLimiting:FailMode", "Closed");
    }
}

public sealed class ClosedRateLimitTests(ClosedRateLimitFixture api) : IClassFixture<ClosedRateLimitFixture>
{
    [Fact]
    public async Task Without_the_store_requests_are_refused_with_503_and_retry_after()
    {
        var refused = await api.ClientFor(await api.CreateUserAsync()).GetAsync("/api/v1/users/me");

        await refused.ShouldBeProblemAsync(HttpStatusCode.ServiceUnavailable);
        refused.Header("Retry-After").ShouldBe(["5"]);
    }

    [Fact]
    public async Task Health_probes_are_not_rate_limited()
    {
        var client = api.CreateAnonymousClient();

        await client.GetAsync("/health/live").ShouldHaveStatusAsync(HttpStatusCode.OK);
        await client.GetAsync("/health/ready").ShouldHaveStatusAsync(HttpStatusCode.OK);
    }
}
