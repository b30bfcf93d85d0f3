using System.Diagnostics;
using System.Net;
using System.Net.ServerSentEvents;
using System.Text.Json;
using Alba;
using Microsoft.AspNetCore.Hosting;
using SliceApi.Features.Changes;
using SliceApi.Features.Tasks;
using SliceApi.Tests.Support;

namespace SliceApi.Tests.Features.Changes;

/// <summary>GET /api/v1/changes/stream: Server-Sent Events read with Alba's SSE support, on PostgreSQL.</summary>
public sealed class ChangeStreamTests(HeartbeatFixture api) : IClassFixture<HeartbeatFixture>
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    [Fact]
    public async Task Changes_made_through_another_instance_arrive_within_about_a_second_with_the_cursor_as_id()
    {
        var owner = await api.CreateUserAsync();
        await using var other = await api.StartHostAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await using var stream = await api.Host.StreamServerSentEvents(s =>
        {
            s.Get.Url("/api/v1/changes/stream");
            s.WithBearerToken(owner.AccessToken);
        }, timeout.Token);
        var events = stream.ReadEvents(timeout.Token).GetAsyncEnumerator(timeout.Token);
        var writer = new ScenarioClient(other, s => s.WithBearerToken(owner.AccessToken));

        var latencies = new List<TimeSpan>();
        for (var i = 0; i < 5; i++)
        {
            var clock = Stopwatch.StartNew();
            var task = await writer.PostAsJsonAsync("/api/v1/tasks", new { title = $"Live {i}" }).ShouldReturnAsync<TaskResponse>(HttpStatusCode.Created);
            (await events.MoveNextAsync()).ShouldBeTrue();
            latencies.Add(clock.Elapsed);

            events.Current.EventType.ShouldBe("change");
            var change = JsonSerializer.Deserialize<ChangeResponse>(events.Current.Data, Json)!;
            change.TaskId.ShouldBe(task.Id);
            change.Type.ShouldBe(TaskEventType.Created);
            events.Current.EventId.ShouldBe(change.Cursor);
        }

        // Within a second as a rule; the whole suite runs in parallel on two cores, so one slow change is let pass (the CI
        // walk through nginx holds each change to a second).
        var report = string.Join(", ", latencies.Select(l => $"{l.TotalMilliseconds:F0} ms"));
        latencies.Order().ElementAt(2).ShouldBeLessThan(TimeSpan.FromSeconds(1), $"median over 1 s: {report}");
        latencies.Max().ShouldBeLessThan(TimeSpan.FromSeconds(3), report);
    }

    [Fact]
    public async Task A_client_that_reconnects_with_last_event_id_misses_nothing_and_sees_nothing_twice()
    {
        var owner = await api.CreateUserAsync();
        var client = api.ClientFor(owner);
        var first = await client.PostAsJsonAsync("/api/v1/tasks", new { title = "Before the drop" }).ShouldReturnAsync<TaskResponse>(HttpStatusCode.Created);
        var seen = await ChangeFeedReader.FollowAsync(client, null, 1);
        var lastId = seen[0].Cursor;
        var missed = new List<Guid>();
        for (var i = 0; i < 3; i++)
        {
            missed.Add((await client.PostAsJsonAsync("/api/v1/tasks", new { title = $"While away {i}" }).ShouldReturnAsync<TaskResponse>(HttpStatusCode.Created)).Id);
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await using var stream = await api.Host.StreamServerSentEvents(s =>
        {
            s.Get.Url("/api/v1/changes/stream");
            s.WithBearerToken(owner.AccessToken);
            s.WithRequestHeader("Last-Event-ID", lastId);
        }, timeout.Token);
        var received = new List<Guid>();
        await foreach (var item in stream.ReadEvents(timeout.Token))
        {
            received.Add(JsonSerializer.Deserialize<ChangeResponse>(item.Data, Json)!.TaskId);
            if (received.Count == missed.Count)
            {
                break;
            }
        }

        received.ShouldBe(missed);
        received.ShouldNotContain(first.Id);
    }

    [Fact]
    public async Task An_idle_stream_gets_a_comment_line_to_keep_proxies_from_closing_it()
    {
        var owner = await api.CreateUserAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await using var stream = await api.Host.StreamServerSentEvents(s =>
        {
            s.Get.Url("/api/v1/changes/stream");
            s.WithBearerToken(owner.AccessToken);
        }, timeout.Token);

        stream.Response.Content.Headers.ContentType!.MediaType.ShouldBe("text/event-stream");
        stream.Response.Headers.CacheControl!.NoCache.ShouldBeTrue();
        using var reader = new StreamReader(await stream.Response.Content.ReadAsStreamAsync(timeout.Token));
        var clock = Stopwatch.StartNew();
        (await reader.ReadLineAsync(timeout.Token)).ShouldBe(": keep-alive");
        clock.Elapsed.ShouldBeGreaterThan(TimeSpan.FromSeconds(HeartbeatFixture.Seconds - 0.5));
    }

    [Fact]
    public async Task A_stream_ends_cleanly_when_its_instance_stops()
    {
        var owner = await api.CreateUserAsync();
        await using var other = await api.StartHostAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await using var stream = await other.StreamServerSentEvents(s =>
        {
            s.Get.Url("/api/v1/changes/stream");
            s.WithBearerToken(owner.AccessToken);
        }, timeout.Token);
        var reading = Task.Run(async () =>
        {
            var count = 0;
            await foreach (var _ in stream.ReadEvents(timeout.Token))
            {
                count++;
            }

            return count;
        });

        var clock = Stopwatch.StartNew();
        await other.StopAsync(timeout.Token);

        (await reading).ShouldBe(0); // the stream ended (no exception), so the client reconnects elsewhere
        clock.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task A_bad_or_expired_last_event_id_is_a_problem_before_the_stream_starts()
    {
        var client = api.ClientFor(await api.CreateUserAsync());

        await client.Scenario(s =>
        {
            s.Get.Url("/api/v1/changes/stream");
            s.WithRequestHeader("Last-Event-ID", "not-a-cursor");
            s.StatusCodeShouldBe(HttpStatusCode.BadRequest);
        });
        await client.GetAsync($"/api/v1/changes/stream?after={long.MaxValue}").ShouldBeProblemAsync(HttpStatusCode.BadRequest, "after");
    }
}

/// <summary>An app whose idle event streams send their comment line after 2 s instead of 15.</summary>
public sealed class HeartbeatFixture : AppFixture
{
    /// <summary>The heartbeat interval.</summary>
    public const int Seconds = 2;

    protected override void ConfigureHost(IWebHostBuilder builder) =>
        builder.UseSetting("Changes:HeartbeatSeconds", Seconds.ToString(System.Globalization.CultureInfo.InvariantCulture));
}
