using System.Diagnostics;
using System.IO.Pipelines;
using System.Net;
using System.Text;
using SliceApi.Tests.Support;

namespace SliceApi.Tests.Infrastructure;

/// <summary>A real process (<c>dotnet SliceApi.dll</c>, Production) sent SIGTERM, as an orchestrator or deploy/cluster.sh stops it.</summary>
[Trait("Category", "Slow")] // starts app processes: left out of the edit-test loop (--filter "Category!=Slow")
[Collection(nameof(RunsAlone))]
public sealed class GracefulShutdownTests
{
    // Long enough that a loaded 2-core machine still finishes the steps meant to happen during the drain (2 s was not).
    private const int DrainSeconds = 4;

    [Fact]
    public Task On_SIGTERM_the_instance_turns_not_ready_serves_while_draining_finishes_requests_in_flight_and_exits_0() =>
        WithInstanceAsync(new Dictionary<string, string>(), async (process, address) =>
        {
            using var client = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(30) };
            (await PollAsync(client, "/health/ready", HttpStatusCode.OK, TimeSpan.FromSeconds(60))).ShouldBeTrue("the instance did not become ready");

            // A registration whose body is still arriving when the signal comes.
            var body = Encoding.UTF8.GetBytes($$"""{"email":"late-{{Guid.NewGuid():N}}@example.com","password":"correct horse battery staple","displayName":"Late"}""");
            var pipe = new Pipe();
            using var content = new StreamContent(pipe.Reader.AsStream());
            content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
            content.Headers.ContentLength = body.Length;
            using var slowClient = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(60) };
            await pipe.Writer.WriteAsync(body.AsMemory(0, 10));
            var inFlight = slowClient.PostAsync("/api/v1/users", content);
            await Task.Delay(300);

            var clock = Stopwatch.StartNew();
            using (var signal = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            {
                await signal.WaitForExitAsync();
            }

            (await PollAsync(client, "/health/ready", HttpStatusCode.ServiceUnavailable, TimeSpan.FromSeconds(DrainSeconds))).ShouldBeTrue("not 503 while draining");
            using (var served = await client.GetAsync("/api/v1/users/me"))
            {
                served.StatusCode.ShouldBe(HttpStatusCode.Unauthorized); // still answering, as a problem
                served.Headers.ConnectionClose.ShouldBe(true);
            }

            await pipe.Writer.WriteAsync(body.AsMemory(10));
            await pipe.Writer.CompleteAsync();
            using (var finished = await inFlight)
            {
                finished.StatusCode.ShouldBe(HttpStatusCode.Created); // begun before the signal, answered after it
            }

            clock.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(DrainSeconds));
            await Task.Delay(TimeSpan.FromSeconds(DrainSeconds) - clock.Elapsed + TimeSpan.FromMilliseconds(500));
            using var late = new HttpClient { BaseAddress = address };
            await Should.ThrowAsync<HttpRequestException>(() => late.GetAsync("/health/live")); // after the drain the socket is closed

            using var exit = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await process.WaitForExitAsync(exit.Token);
            process.ExitCode.ShouldBe(0);
        });

    [Fact]
    public Task Behind_a_proxy_a_draining_instance_closes_unanswered_the_requests_the_proxy_may_repeat_and_serves_the_others() =>
        WithInstanceAsync(new Dictionary<string, string> { ["Shutdown__RefuseRepeatableWhileDraining"] = "true" }, async (process, address) =>
        {
            // A new connection per request, as nginx opens them to a draining instance.
            using var client = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.Zero }) { BaseAddress = address };
            (await PollAsync(client, "/health/ready", HttpStatusCode.OK, TimeSpan.FromSeconds(60))).ShouldBeTrue("the instance did not become ready");
            (await client.GetAsync("/api/v1/users/me")).StatusCode.ShouldBe(HttpStatusCode.Unauthorized, "served before the signal");

            using (var signal = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            {
                await signal.WaitForExitAsync();
            }

            (await PollAsync(client, "/health/ready", HttpStatusCode.ServiceUnavailable, TimeSpan.FromSeconds(DrainSeconds))).ShouldBeTrue("probes are answered while draining");
            await Should.ThrowAsync<HttpRequestException>(() => client.GetAsync("/api/v1/users/me"));
            await Should.ThrowAsync<HttpRequestException>(() => client.DeleteAsync($"/api/v1/tasks/{Guid.CreateVersion7()}"));
            using (var keyed = new HttpRequestMessage(HttpMethod.Post, "/api/v1/tasks") { Content = JsonContent("""{"title":"Keyed"}""") })
            {
                keyed.Headers.Add("Idempotency-Key", "\"drain-1\"");
                await Should.ThrowAsync<HttpRequestException>(() => client.SendAsync(keyed));
            }

            // A POST without a key may not be repeated elsewhere, so it is still run here (401: it carries no token).
            using (var unkeyed = await client.PostAsync("/api/v1/tasks", JsonContent("""{"title":"Unkeyed"}""")))
            {
                unkeyed.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
                unkeyed.Headers.ConnectionClose.ShouldBe(true);
            }

            using var exit = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await process.WaitForExitAsync(exit.Token);
            process.ExitCode.ShouldBe(0);
        });

    // Starts `dotnet SliceApi.dll` (Production, a drain of DrainSeconds, plus `settings`) on a database of its own, runs
    // `test` with the process and its address, then kills what is left of it and drops the database.
    private static async Task WithInstanceAsync(Dictionary<string, string> settings, Func<Process, Uri, Task> test)
    {
        var connectionString = await TestDatabaseServer.Current.CreateMigratedDatabaseAsync();
        var environment = AppProcess.ProductionEnvironment(connectionString);
        environment["Shutdown__DrainSeconds"] = DrainSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        foreach (var (name, value) in settings)
        {
            environment[name] = value;
        }

        var (process, address) = AppProcess.Serve(environment);
        try
        {
            await test(process, address);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
            }

            process.Dispose();
            await TestDatabaseServer.Current.DropDatabaseAsync(connectionString);
        }
    }

    private static StringContent JsonContent(string json) => new(json, Encoding.UTF8, "application/json");

    private static async Task<bool> PollAsync(HttpClient client, string path, HttpStatusCode expected, TimeSpan limit)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < limit)
        {
            try
            {
                using var response = await client.GetAsync(path);
                if (response.StatusCode == expected)
                {
                    return true;
                }
            }
            catch (HttpRequestException)
            {
                // not listening yet
            }

            await Task.Delay(50);
        }

        return false;
    }
}
