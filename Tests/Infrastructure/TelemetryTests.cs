using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Trace;
using SliceApi.Tests.Support;

namespace SliceApi.Tests.Infrastructure;

/// <summary>
/// The app with its telemetry on: a management address (the Prometheus scrape endpoint), an OTLP endpoint (so spans are
/// made; nothing listens there, and every finished span is also kept in <see cref="Spans"/>), and every log category
/// at Trace into <see cref="Logs"/>.
/// </summary>
public sealed class TelemetryFixture : AppFixture
{
    /// <summary>The port of the management address.</summary>
    public const int ManagementPort = 19464;

    /// <summary>Every span the app's tracer provider finished (of every host in this test process).</summary>
    public ConcurrentQueue<Activity> Spans { get; } = new();

    /// <summary>Everything the app logged, at every level.</summary>
    public CapturedLogs Logs { get; } = new();

    protected override void ConfigureHost(IWebHostBuilder builder)
    {
        builder.UseSetting("Management:Url", $"http://127.0.0.1:{ManagementPort}");
        builder.UseSetting("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:9");
        // Webhooks to a receiver on loopback, polled often, for the delivery attempts' counter.
        builder.UseSetting("Webhooks:AllowPrivateNetworks", "true");
        builder.UseSetting("Webhooks:PollMilliseconds", "100");
        foreach (var category in new[] { "Default", "Microsoft", "Microsoft.AspNetCore", "Marten", "Npgsql",
                     "Microsoft.AspNetCore.Authentication.JwtBearer.JwtBearerHandler" })
        {
            builder.UseSetting($"Logging:LogLevel:{category}", "Trace");
        }

        builder.ConfigureServices(services =>
        {
            services.AddSingleton<ILoggerProvider>(Logs);
            services.ConfigureOpenTelemetryTracerProvider(tracing => tracing.AddProcessor(new SpanCollector(Spans)));
        });
    }

    private sealed class SpanCollector(ConcurrentQueue<Activity> spans) : BaseProcessor<Activity>
    {
        public override void OnEnd(Activity data) => spans.Enqueue(data);
    }
}

/// <summary>Metrics on the management address only, traces that continue the caller's, and logs that keep no secret.</summary>
[Collection(nameof(RunsAlone))]
public sealed class TelemetryTests(TelemetryFixture api) : IClassFixture<TelemetryFixture>
{
    private static readonly string[] ReadWriteScopes = ["tasks:read", "tasks:write"];

    [Fact]
    public async Task Metrics_scraped_on_the_management_address_hold_the_api_runtime_database_and_sliceapi_instruments()
    {
        var secrets = await WalkAsync();
        // A scrape can trail the requests just made (seen on loaded machines: a count one behind): scrape until every
        // figure below shows, for at most 10 s, then assert on that scrape.
        string[] names = ["http_server_request_duration_seconds_bucket", "http_route=\"/api/v1/tasks\"", "aspnetcore_rate_limiting_requests_total",
            "dotnet_gc_collections_total", "db_client_operation_duration_seconds_bucket"];
        bool Complete(string scraped) =>
            names.All(n => scraped.Contains(n, StringComparison.Ordinal))
            && TrySample(scraped, "sliceapi_tasks_created_total") >= 2 && TrySample(scraped, "sliceapi_logins_total", "result=\"succeeded\"") >= 2
            && TrySample(scraped, "sliceapi_logins_total", "result=\"failed\"") >= 1 && TrySample(scraped, "sliceapi_refresh_tokens_reuse_detected_total") >= 1
            && TrySample(scraped, "sliceapi_idempotency_replays_total") >= 1;
        var text = "";
        for (var clock = Stopwatch.StartNew(); clock.Elapsed < TimeSpan.FromSeconds(10) && !Complete(text); await Task.Delay(200, TestContext.Current.CancellationToken))
        {
            var response = await Scrape("/metrics");
            await response.ShouldHaveStatusAsync(HttpStatusCode.OK);
            response.MediaType().ShouldBe("text/plain");
            text = await response.ReadAsTextAsync();
        }

        // SliceApi's own, named by OpenTelemetry's conventions (the exporter adds _total to counters).
        Sample(text, "sliceapi_tasks_created_total").ShouldBeGreaterThanOrEqualTo(2);
        Sample(text, "sliceapi_logins_total", "result=\"succeeded\"").ShouldBeGreaterThanOrEqualTo(2);
        Sample(text, "sliceapi_logins_total", "result=\"failed\"").ShouldBeGreaterThanOrEqualTo(1);
        Sample(text, "sliceapi_refresh_tokens_reuse_detected_total").ShouldBeGreaterThanOrEqualTo(1);
        Sample(text, "sliceapi_idempotency_replays_total").ShouldBeGreaterThanOrEqualTo(1);
        // ASP.NET Core's, the runtime's and Npgsql's.
        text.ShouldContain("http_server_request_duration_seconds_bucket");
        text.ShouldContain("http_route=\"/api/v1/tasks\"", Case.Sensitive, "requests are labelled by their route template");
        text.ShouldContain("aspnetcore_rate_limiting_requests_total"); // by result: acquired, endpoint_limiter (rejected), ...
        text.ShouldContain("dotnet_gc_collections_total");
        text.ShouldContain("db_client_operation_duration_seconds_bucket");
        secrets.ShouldNotBeEmpty();
    }

    [Fact]
    public async Task The_figures_the_alert_rules_watch_are_scraped_readiness_webhook_attempts_and_the_feeds_oldest_pending_event()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var owner = await api.CreateUserAsync();
        var client = api.ClientFor(owner);
        string[] created = ["task.created"];
        await client.PostAsJsonAsync("/api/v1/webhooks", new { url = receiver.Url("accepting"), eventTypes = created }).ShouldHaveStatusAsync(HttpStatusCode.Created);
        await client.PostAsJsonAsync("/api/v1/webhooks", new { url = receiver.Url("refusing", _ => 500), eventTypes = created }).ShouldHaveStatusAsync(HttpStatusCode.Created);
        await client.PostAsJsonAsync("/api/v1/tasks", new { title = "Watched" }).ShouldHaveStatusAsync(HttpStatusCode.Created);
        await receiver.WaitForAsync("accepting", 1);
        await receiver.WaitForAsync("refusing", 1);

        // The gauges are read in the background (readiness every 5 s, the feed's age when scraped), so scrape until both
        // show and both attempts are counted, for at most 15 s.
        bool Complete(string scraped) =>
            TrySample(scraped, "sliceapi_health_ready") >= 0 && TrySample(scraped, "sliceapi_changes_oldest_pending_age_seconds") >= 0
            && TrySample(scraped, "sliceapi_webhooks_attempts_total", "result=\"succeeded\"") >= 1
            && TrySample(scraped, "sliceapi_webhooks_attempts_total", "result=\"failed\"") >= 1;
        var text = "";
        for (var clock = Stopwatch.StartNew(); clock.Elapsed < TimeSpan.FromSeconds(15) && !Complete(text); await Task.Delay(250, TestContext.Current.CancellationToken))
        {
            text = await (await Scrape("/metrics")).ReadAsTextAsync();
        }

        Sample(text, "sliceapi_health_ready").ShouldBe(1, "the database answers and the schema matches");
        Sample(text, "sliceapi_webhooks_attempts_total", "result=\"succeeded\"").ShouldBeGreaterThanOrEqualTo(1);
        Sample(text, "sliceapi_webhooks_attempts_total", "result=\"failed\"").ShouldBeGreaterThanOrEqualTo(1, "the refusing receiver answered 500");
        Sample(text, "sliceapi_changes_oldest_pending_age_seconds").ShouldBeInRange(0, 30, "the daemon runs, so nothing waits long");
    }

    [Fact]
    public async Task The_management_address_serves_nothing_of_the_api_and_the_api_address_serves_no_metrics()
    {
        await (await Scrape("/api/v1/users/me")).ShouldHaveStatusAsync(HttpStatusCode.NotFound);
        await (await Scrape("/health/ready")).ShouldHaveStatusAsync(HttpStatusCode.NotFound);
        await api.CreateAnonymousClient().GetAsync("/metrics").ShouldBeProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task A_request_continues_the_callers_trace_with_a_server_span_and_a_child_span_per_database_command()
    {
        var user = await api.CreateUserAsync();
        var traceId = ActivityTraceId.CreateRandom();
        var parentId = ActivitySpanId.CreateRandom();
        var missing = Guid.CreateVersion7();

        var problem = await api.ClientFor(user).Scenario(s =>
        {
            s.Get.Url($"/api/v1/tasks/{missing}");
            s.WithRequestHeader("traceparent", $"00-{traceId}-{parentId}-01");
            s.StatusCodeShouldBe(HttpStatusCode.NotFound);
        }).ShouldBeProblemAsync(HttpStatusCode.NotFound);

        problem.GetProperty("traceId").GetString().ShouldBe(traceId.ToHexString());
        var server = await WaitForAsync(() => api.Spans.FirstOrDefault(a => a.TraceId == traceId && a.Kind == ActivityKind.Server));
        server.ParentSpanId.ShouldBe(parentId);
        server.GetTagItem("http.response.status_code").ShouldBe(404);
        var commands = api.Spans.Where(a => a.TraceId == traceId && a.Source.Name == "Npgsql").ToList();
        commands.ShouldNotBeEmpty("the task lookup is a database command");
        commands.ShouldAllBe(c => c.ParentSpanId == server.SpanId);
    }

    [Fact]
    public async Task No_password_token_or_api_key_appears_in_any_log_line_or_scope_at_trace_level()
    {
        var secrets = await WalkAsync();
        var logged = api.Logs.Lines.Select(l => $"{l.Category} {l.Message}").Concat(api.Logs.Scopes).ToList();
        logged.Count.ShouldBeGreaterThan(100, "every category logs at Trace in this fixture");
        foreach (var secret in secrets)
        {
            logged.Where(line => line.Contains(secret, StringComparison.Ordinal)).ShouldBeEmpty($"a secret of {secret.Length} characters was logged");
        }
    }

    // The README's scenario: register, a wrong password, log in, refresh, the old refresh token again (reuse), an API key
    // used, a task created twice with one Idempotency-Key, a password change, a logout. Returns every secret it sent or got.
    private async Task<List<string>> WalkAsync()
    {
        var anonymous = api.CreateAnonymousClient();
        var email = $"walk-{Guid.NewGuid():N}@example.com";
        const string password = "a walkthrough passphrase";
        const string wrong = "not the passphrase at all";
        const string newPassword = "another walkthrough passphrase";
        await anonymous.PostAsJsonAsync("/api/v1/users", new { email, password, displayName = "Walker" }).ShouldHaveStatusAsync(HttpStatusCode.Created);
        await anonymous.PostAsJsonAsync("/api/v1/auth/login", new { email, password = wrong }).ShouldHaveStatusAsync(HttpStatusCode.Unauthorized);
        var first = await anonymous.PostAsJsonAsync("/api/v1/auth/login", new { email, password }).ShouldReturnAsync<JsonElement>();
        var refreshed = await anonymous.PostAsJsonAsync("/api/v1/auth/refresh", new { refreshToken = Text(first, "refreshToken") }).ShouldReturnAsync<JsonElement>();
        await anonymous.PostAsJsonAsync("/api/v1/auth/refresh", new { refreshToken = Text(first, "refreshToken") }).ShouldHaveStatusAsync(HttpStatusCode.Unauthorized);
        var second = await anonymous.PostAsJsonAsync("/api/v1/auth/login", new { email, password }).ShouldReturnAsync<JsonElement>();
        var caller = api.CreateBearerClient(Text(second, "accessToken"));
        var key = await caller.PostAsJsonAsync("/api/v1/api-keys", new { name = "walk", scopes = ReadWriteScopes })
            .ShouldReturnAsync<JsonElement>(HttpStatusCode.Created);
        var withKey = api.CreateApiKeyClient(Text(key, "key"));
        await withKey.GetAsync("/api/v1/tasks").ShouldHaveStatusAsync(HttpStatusCode.OK);
        foreach (var _ in new[] { 1, 2 })
        {
            await caller.Scenario(s =>
            {
                s.Post.Json(new { title = "Walk" }).ToUrl("/api/v1/tasks");
                s.WithRequestHeader("Idempotency-Key", "\"walk-once\"");
                s.StatusCodeShouldBe(HttpStatusCode.Created);
            });
        }

        await caller.PostAsJsonAsync("/api/v1/tasks", new { title = "Walk again" }).ShouldHaveStatusAsync(HttpStatusCode.Created);
        await caller.PostAsJsonAsync("/api/v1/users/me/password", new { currentPassword = password, newPassword })
            .ShouldHaveStatusAsync(HttpStatusCode.NoContent);
        var third = await anonymous.PostAsJsonAsync("/api/v1/auth/login", new { email, password = newPassword }).ShouldReturnAsync<JsonElement>();
        await anonymous.PostAsJsonAsync("/api/v1/auth/logout", new { refreshToken = Text(third, "refreshToken") }).ShouldHaveStatusAsync(HttpStatusCode.NoContent);
        return [password, wrong, newPassword, Text(key, "key"),
            .. new[] { first, refreshed, second, third }.SelectMany(pair => new[] { Text(pair, "accessToken"), Text(pair, "refreshToken") })];
    }

    private Task<IScenarioResult> Scrape(string path) =>
        api.Host.Scenario(s =>
        {
            s.Get.Url(path);
            s.ConfigureHttpContext(c => c.Connection.LocalPort = TelemetryFixture.ManagementPort);
            s.IgnoreStatusCode();
        });

    private static string Text(JsonElement json, string member) => json.GetProperty(member).GetString()!;

    // The value of the first sample of metric `name` whose labels hold `label`, or -1 when there is none.
    private static double TrySample(string text, string name, string label = "") =>
        text.Split('\n').Any(l => l.StartsWith(name + "{", StringComparison.Ordinal) && l.Contains(label, StringComparison.Ordinal)) ? Sample(text, name, label) : -1;

    // The value of the first sample of metric `name` whose labels hold `label` (Prometheus text format: name{labels} value).
    private static double Sample(string text, string name, string label = "")
    {
        var line = text.Split('\n').FirstOrDefault(l => l.StartsWith(name + "{", StringComparison.Ordinal) && l.Contains(label, StringComparison.Ordinal));
        line.ShouldNotBeNull($"no sample of {name} {label} in the scrape:\n{text}");
        return double.Parse(line[(line.LastIndexOf('}') + 1)..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
    }

    private static async Task<T> WaitForAsync<T>(Func<T?> find) where T : class
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(5))
        {
            if (find() is { } found)
            {
                return found;
            }

            await Task.Delay(20);
        }

        throw new ShouldAssertException("Not seen within 5 s.");
    }
}
