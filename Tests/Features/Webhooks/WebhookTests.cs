using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using SliceApi.Features.Tasks;
using SliceApi.Features.Webhooks;
using SliceApi.Infrastructure.Security;
using SliceApi.Tests.Support;
using StandardWebhooks;

namespace SliceApi.Tests.Features.Webhooks;

/// <summary>Webhooks end to end: registered over HTTP, fanned out by Marten's daemon, POSTed to a real receiver, verified with the StandardWebhooks library.</summary>
public sealed class WebhookTests(WebhookFixture api) : IClassFixture<WebhookFixture>, IAsyncLifetime
{
    private static readonly string[] Created = ["task.created"];
    private static readonly string[] Unknown = ["task.exploded"];
    private static readonly string[] CreatedAndStatus = ["task.created", "task.status_changed"];
    private WebhookReceiver receiver = null!;

    public async ValueTask InitializeAsync() => receiver = await WebhookReceiver.StartAsync();

    public async ValueTask DisposeAsync() => await receiver.DisposeAsync();

    [Fact]
    public async Task A_change_reaches_the_endpoint_signed_per_standard_webhooks()
    {
        var owner = await api.CreateUserAsync();
        var client = api.ClientFor(owner);
        var registered = await client.PostAsJsonAsync("/api/v1/webhooks", new { url = receiver.Url("signed"), eventTypes = CreatedAndStatus })
            .ShouldReturnAsync<CreateWebhookResponse>(HttpStatusCode.Created);
        var task = await client.PostAsJsonAsync("/api/v1/tasks", new { title = "Hooked" }).ShouldReturnAsync<TaskResponse>(HttpStatusCode.Created);
        await client.PutAsJsonAsync($"/api/v1/tasks/{task.Id}", new { title = "Hooked, renamed" }).ShouldHaveStatusAsync(HttpStatusCode.OK); // not subscribed
        await client.PutAsJsonAsync($"/api/v1/tasks/{task.Id}/status", new { status = "done" }).ShouldHaveStatusAsync(HttpStatusCode.OK);

        var received = await receiver.WaitForAsync("signed", 2);

        registered.Secret.ShouldStartWith("whsec_");
        registered.Webhook.Enabled.ShouldBeTrue();
        var verifier = new StandardWebhook(registered.Secret);
        foreach (var hook in received)
        {
            Should.NotThrow(() => verifier.Verify(hook.Body, hook.Headers));
            hook.Id.ShouldMatch("^msg_[0-9a-f]{32}$");
            hook.Headers.ContentType.ToString().ShouldStartWith("application/json");
        }

        // Deliveries go out in parallel, so they may arrive in any order (a receiver orders by data.cursor).
        var payloads = received.Select(h => JsonDocument.Parse(h.Body).RootElement).OrderBy(p => long.Parse(p.GetProperty("data").GetProperty("cursor").GetString()!, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        payloads.Select(p => p.GetProperty("type").GetString()).ShouldBe(["task.created", "task.status_changed"]);
        payloads[1].GetProperty("data").GetProperty("taskId").GetGuid().ShouldBe(task.Id);
        payloads[1].GetProperty("data").GetProperty("event").GetProperty("task").GetProperty("status").GetString().ShouldBe("done");
        Should.Throw<StandardWebhooks.Diagnostics.WebhookVerificationException>(() => new StandardWebhook(StandardWebhookSecret()).Verify(received[0].Body, received[0].Headers));
        await Task.Delay(500);
        receiver.Received("signed").Count.ShouldBe(2); // the rename was not subscribed to
        (await (await client.GetAsync($"/api/v1/webhooks/{registered.Webhook.Id}").ShouldHaveStatusAsync(HttpStatusCode.OK)).ReadAsTextAsync()).ShouldNotContain("whsec_");
    }

    [Fact]
    public async Task An_endpoint_gets_only_the_changes_its_owner_may_see_and_a_reassignment_away_as_removed()
    {
        var owner = await api.CreateUserAsync();
        var assignee = await api.CreateUserAsync();
        var other = await api.CreateUserAsync();
        var secret = (await api.ClientFor(assignee).PostAsJsonAsync("/api/v1/webhooks", new { url = receiver.Url("assignee"), eventTypes = WebhookEventTypes.All })
            .ShouldReturnAsync<CreateWebhookResponse>(HttpStatusCode.Created)).Secret;
        var client = api.ClientFor(owner);
        await client.PostAsJsonAsync("/api/v1/tasks", new { title = "Not theirs" }).ShouldHaveStatusAsync(HttpStatusCode.Created);
        var task = await client.PostAsJsonAsync("/api/v1/tasks", new { title = "Theirs", assigneeId = assignee.Id }).ShouldReturnAsync<TaskResponse>(HttpStatusCode.Created);
        await client.PutAsJsonAsync($"/api/v1/tasks/{task.Id}", new { title = "Theirs", assigneeId = other.Id }).ShouldHaveStatusAsync(HttpStatusCode.OK);

        var received = await receiver.WaitForAsync("assignee", 2);

        await Task.Delay(500);
        receiver.Received("assignee").Count.ShouldBe(2);
        var data = received.Select(h => JsonDocument.Parse(h.Body).RootElement.GetProperty("data"))
            .OrderBy(d => long.Parse(d.GetProperty("cursor").GetString()!, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        data.Select(d => (d.GetProperty("type").GetString(), d.GetProperty("removed").GetBoolean())).ShouldBe([("created", false), ("assigned", true)]);
        data[1].GetProperty("event").ValueKind.ShouldBe(JsonValueKind.Null);
        received.ShouldAllBe(h => Verifies(secret, h));
    }

    [Fact]
    public async Task A_failed_delivery_is_retried_under_the_same_id_and_its_attempts_are_listed()
    {
        var owner = await api.CreateUserAsync();
        var client = api.ClientFor(owner);
        var registered = await client.PostAsJsonAsync("/api/v1/webhooks", new { url = receiver.Url("flaky", attempt => attempt < 3 ? 500 : 204), eventTypes = Created })
            .ShouldReturnAsync<CreateWebhookResponse>(HttpStatusCode.Created);
        await client.PostAsJsonAsync("/api/v1/tasks", new { title = "Third time lucky" }).ShouldHaveStatusAsync(HttpStatusCode.Created);

        var received = await receiver.WaitForAsync("flaky", 3);

        received.Select(h => h.Id).Distinct().Count().ShouldBe(1);
        received.Select(h => h.Body).Distinct().Count().ShouldBe(1);
        received.ShouldAllBe(h => Verifies(registered.Secret, h));
        ListWebhookDeliveriesResponse page = null!;
        for (var i = 0; i < 50 && (page is null || page.Items.Single().State != WebhookDeliveryState.Succeeded); i++)
        {
            await Task.Delay(100);
            page = await client.GetAsync($"/api/v1/webhooks/{registered.Webhook.Id}/deliveries").ShouldReturnAsync<ListWebhookDeliveriesResponse>();
        }

        var delivery = page.Items.ShouldHaveSingleItem();
        delivery.State.ShouldBe(WebhookDeliveryState.Succeeded);
        delivery.Id.ShouldBe(received[0].Id);
        delivery.Attempts.Select(a => a.StatusCode).ShouldBe([500, 500, 204]);
        delivery.Attempts.ShouldAllBe(a => a.DurationMs >= 0 && a.Error == null);
        (delivery.Attempts[1].At - delivery.Attempts[0].At).ShouldBeGreaterThanOrEqualTo(TimeSpan.FromSeconds(0.9));
    }

    [Fact]
    public async Task An_endpoint_whose_delivery_fails_every_attempt_is_disabled_with_the_reason_and_can_be_redelivered_once_enabled()
    {
        var owner = await api.CreateUserAsync();
        var client = api.ClientFor(owner);
        var down = true;
        var url = receiver.Url("down", _ => down ? 503 : 204);
        var registered = await client.PostAsJsonAsync("/api/v1/webhooks", new { url, eventTypes = Created })
            .ShouldReturnAsync<CreateWebhookResponse>(HttpStatusCode.Created);
        var hook = $"/api/v1/webhooks/{registered.Webhook.Id}";
        await client.PostAsJsonAsync("/api/v1/tasks", new { title = "Never arrives" }).ShouldHaveStatusAsync(HttpStatusCode.Created);
        await receiver.WaitForAsync("down", 3);

        WebhookResponse endpoint = null!;
        for (var i = 0; i < 50 && (endpoint is null || endpoint.Enabled); i++)
        {
            await Task.Delay(100);
            endpoint = await client.GetAsync(hook).ShouldReturnAsync<WebhookResponse>();
        }

        endpoint.Enabled.ShouldBeFalse();
        endpoint.DisabledReason!.ShouldContain("failed 3 attempts");
        endpoint.DisabledReason!.ShouldContain("503");
        var delivery = (await client.GetAsync($"{hook}/deliveries").ShouldReturnAsync<ListWebhookDeliveriesResponse>()).Items.Single();
        delivery.State.ShouldBe(WebhookDeliveryState.Failed);
        await client.PostAsJsonAsync($"/api/v1/tasks", new { title = "Not sent while disabled" }).ShouldHaveStatusAsync(HttpStatusCode.Created);
        await client.PostAsJsonAsync($"{hook}/deliveries/{delivery.Id}/redeliver", new { }).ShouldBeProblemAsync(HttpStatusCode.Conflict);

        down = false;
        await client.PutAsJsonAsync(hook, new { url, eventTypes = Created, enabled = true }).ShouldHaveStatusAsync(HttpStatusCode.OK);
        await client.PostAsJsonAsync($"{hook}/deliveries/{delivery.Id}/redeliver", new { }).ShouldHaveStatusAsync(HttpStatusCode.Accepted);

        var received = await receiver.WaitForAsync("down", 4);
        received[3].Id.ShouldBe(delivery.Id);
        received[3].Answered.ShouldBe(204);
        await client.PostAsJsonAsync($"{hook}/deliveries/msg_{Guid.NewGuid():N}/redeliver", new { }).ShouldBeProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task An_endpoint_its_owner_disables_receives_nothing_until_enabled_again()
    {
        var owner = await api.CreateUserAsync();
        var client = api.ClientFor(owner);
        var url = receiver.Url("paused");
        var hook = $"/api/v1/webhooks/{(await client.PostAsJsonAsync("/api/v1/webhooks", new { url, eventTypes = Created })
            .ShouldReturnAsync<CreateWebhookResponse>(HttpStatusCode.Created)).Webhook.Id}";

        var disabled = await client.PutAsJsonAsync(hook, new { url, eventTypes = Created, enabled = false }).ShouldReturnAsync<WebhookResponse>();
        await client.PostAsJsonAsync("/api/v1/tasks", new { title = "While paused" }).ShouldHaveStatusAsync(HttpStatusCode.Created);
        await Task.Delay(1500);

        disabled.Enabled.ShouldBeFalse();
        disabled.DisabledReason.ShouldBe("Disabled by its owner.");
        (await client.GetAsync(hook).ShouldReturnAsync<WebhookResponse>()).Enabled.ShouldBeFalse();
        receiver.Received("paused").ShouldBeEmpty();
        (await client.GetAsync($"{hook}/deliveries").ShouldReturnAsync<ListWebhookDeliveriesResponse>()).Items.ShouldBeEmpty();

        (await client.PutAsJsonAsync(hook, new { url, eventTypes = Created, enabled = true }).ShouldReturnAsync<WebhookResponse>()).DisabledReason.ShouldBeNull();
        await client.PostAsJsonAsync("/api/v1/tasks", new { title = "After the pause" }).ShouldHaveStatusAsync(HttpStatusCode.Created);
        JsonDocument.Parse((await receiver.WaitForAsync("paused", 1)).Single().Body).RootElement.GetProperty("data").GetProperty("event")
            .GetProperty("task").GetProperty("title").GetString().ShouldBe("After the pause");
    }

    [Fact]
    public async Task After_a_rotation_deliveries_carry_both_signatures_for_a_day()
    {
        var owner = await api.CreateUserAsync();
        var client = api.ClientFor(owner);
        var registered = await client.PostAsJsonAsync("/api/v1/webhooks", new { url = receiver.Url("rotated"), eventTypes = Created })
            .ShouldReturnAsync<CreateWebhookResponse>(HttpStatusCode.Created);

        var rotated = await client.PostAsJsonAsync($"/api/v1/webhooks/{registered.Webhook.Id}/rotate-secret", new { }).ShouldReturnAsync<RotateWebhookSecretResponse>();
        await client.PostAsJsonAsync("/api/v1/tasks", new { title = "Signed twice" }).ShouldHaveStatusAsync(HttpStatusCode.Created);

        var hook = (await receiver.WaitForAsync("rotated", 1)).Single();
        rotated.Secret.ShouldNotBe(registered.Secret);
        (rotated.PreviousSecretExpiresAt - DateTimeOffset.UtcNow).ShouldBeInRange(TimeSpan.FromHours(23.9), TimeSpan.FromHours(24));
        var signatures = hook.Headers["webhook-signature"].ToString().Split(' ');
        signatures.Length.ShouldBe(2);
        // StandardWebhooks 1.1.2 compares only the first entry of a header with several (its loop stops before the
        // last), so each entry is verified on its own: the new secret's, then the old one's.
        Verifies(rotated.Secret, hook with { Headers = WithSignature(hook, signatures[0]) }).ShouldBeTrue();
        Verifies(registered.Secret, hook with { Headers = WithSignature(hook, signatures[1]) }).ShouldBeTrue();
        Verifies(registered.Secret, hook with { Headers = WithSignature(hook, signatures[0]) }).ShouldBeFalse();
    }

    [Fact]
    public async Task Registration_checks_its_input_and_the_limit_and_only_the_owner_sees_an_endpoint()
    {
        var owner = await api.CreateUserAsync();
        var client = api.ClientFor(owner);
        await client.PostAsJsonAsync("/api/v1/webhooks", new { url = "not a url", eventTypes = Created }).ShouldBeProblemAsync(HttpStatusCode.BadRequest, "url");
        await client.PostAsJsonAsync("/api/v1/webhooks", new { url = receiver.Url("x"), eventTypes = Array.Empty<string>() }).ShouldBeProblemAsync(HttpStatusCode.BadRequest, "eventTypes");
        await client.PostAsJsonAsync("/api/v1/webhooks", new { url = receiver.Url("x"), eventTypes = Unknown }).ShouldBeProblemAsync(HttpStatusCode.BadRequest, "eventTypes");
        var ids = new List<Guid>();
        for (var i = 0; i < WebhookEndpoint.MaxPerUser; i++)
        {
            ids.Add((await client.PostAsJsonAsync("/api/v1/webhooks", new { url = receiver.Url($"n{i}"), eventTypes = Created }).ShouldReturnAsync<CreateWebhookResponse>(HttpStatusCode.Created)).Webhook.Id);
        }

        await client.PostAsJsonAsync("/api/v1/webhooks", new { url = receiver.Url("one-too-many"), eventTypes = Created }).ShouldBeProblemAsync(HttpStatusCode.Conflict);
        (await client.GetAsync("/api/v1/webhooks").ShouldReturnAsync<List<WebhookResponse>>()).Select(w => w.Id).ShouldBe(ids);
        var stranger = api.ClientFor(await api.CreateUserAsync());
        await stranger.GetAsync($"/api/v1/webhooks/{ids[0]}").ShouldBeProblemAsync(HttpStatusCode.NotFound);
        await stranger.DeleteAsync($"/api/v1/webhooks/{ids[0]}").ShouldBeProblemAsync(HttpStatusCode.NotFound);
        await api.ClientFor(await api.CreateUserAsync(AppRoles.Admin)).GetAsync($"/api/v1/webhooks/{ids[0]}").ShouldHaveStatusAsync(HttpStatusCode.OK);
        await client.DeleteAsync($"/api/v1/webhooks/{ids[0]}").ShouldHaveStatusAsync(HttpStatusCode.NoContent);
        await client.GetAsync($"/api/v1/webhooks/{ids[0]}").ShouldBeProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Deliveries_no_longer_pending_go_after_30_days()
    {
        var owner = await api.CreateUserAsync();
        var endpoint = (await api.ClientFor(owner).PostAsJsonAsync("/api/v1/webhooks", new { url = receiver.Url("pruned"), eventTypes = Created })
            .ShouldReturnAsync<CreateWebhookResponse>(HttpStatusCode.Created)).Webhook.Id;
        WebhookDelivery Delivery(WebhookDeliveryState state, int daysAgo) => new()
        {
            Id = Guid.NewGuid(), EndpointId = endpoint, EventSequence = Random.Shared.NextInt64(1, long.MaxValue), EventType = "task.created", Payload = "{}",
            State = state, NextAttemptAt = DateTimeOffset.UtcNow.AddDays(1), CreatedAt = DateTimeOffset.UtcNow.AddDays(-daysAgo),
        };
        var (oldSucceeded, oldFailed, oldPending, recent) =
            (Delivery(WebhookDeliveryState.Succeeded, 31), Delivery(WebhookDeliveryState.Failed, 31), Delivery(WebhookDeliveryState.Pending, 31), Delivery(WebhookDeliveryState.Succeeded, 29));
        await api.WithDocumentsAsync(session =>
        {
            session.Insert(oldSucceeded, oldFailed, oldPending, recent);
            return session.SaveChangesAsync();
        });

        await api.Services.GetRequiredService<WebhookDispatcher>().PruneAsync(CancellationToken.None);

        (await api.FindAsync<WebhookDelivery>(d => d.EndpointId == endpoint)).Select(d => d.Id).Order().ShouldBe(new[] { oldPending.Id, recent.Id }.Order());
    }

    internal static bool Verifies(string secret, ReceivedWebhook hook)
    {
        try
        {
            new StandardWebhook(secret).Verify(hook.Body, hook.Headers);
            return true;
        }
        catch (StandardWebhooks.Diagnostics.WebhookVerificationException)
        {
            return false;
        }
    }

    private static Microsoft.AspNetCore.Http.HeaderDictionary WithSignature(ReceivedWebhook hook, string signature) =>
        new(hook.Headers.ToDictionary(h => h.Key, h => h.Key == "webhook-signature" ? new Microsoft.Extensions.Primitives.StringValues(signature) : h.Value));

    private static string StandardWebhookSecret() => "whsec_" + Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
}

/// <summary>Two instances on one database: one delivers, and when it stops the other takes over (its own fixture, since it stops the fixture's host).</summary>
public sealed class WebhookAcrossInstancesTests(WebhookFixture api) : IClassFixture<WebhookFixture>, IAsyncLifetime
{
    private static readonly string[] Created = ["task.created"];
    private WebhookReceiver receiver = null!;

    public async ValueTask InitializeAsync() => receiver = await WebhookReceiver.StartAsync();

    public async ValueTask DisposeAsync() => await receiver.DisposeAsync();

    [Fact]
    public async Task Across_two_instances_each_event_reaches_each_endpoint_once_and_delivery_survives_the_delivering_instance_stopping()
    {
        var owner = await api.CreateUserAsync();
        var client = api.ClientFor(owner);
        var registered = await client.PostAsJsonAsync("/api/v1/webhooks", new { url = receiver.Url("pair"), eventTypes = Created })
            .ShouldReturnAsync<CreateWebhookResponse>(HttpStatusCode.Created);
        var (secret, endpointId) = (registered.Secret, registered.Webhook.Id);
        var second = await api.StartHostAsync();
        try
        {
            var onSecond = new ScenarioClient(second, s => s.WithBearerToken(owner.AccessToken));
            for (var i = 0; i < 10; i++)
            {
                await (i % 2 == 0 ? client : onSecond).PostAsJsonAsync("/api/v1/tasks", new { title = $"Pair {i}" }).ShouldHaveStatusAsync(HttpStatusCode.Created);
            }

            await receiver.WaitForAsync("pair", 10);
            // Every attempt recorded (the dispatcher records after the response), so stopping now leaves nothing in flight.
            for (var i = 0; i < 100 && (await client.GetAsync($"/api/v1/webhooks/{endpointId}/deliveries").ShouldReturnAsync<ListWebhookDeliveriesResponse>())
                     .Items.Any(d => d.State != WebhookDeliveryState.Succeeded); i++)
            {
                await Task.Delay(50);
            }

            var delivering = new[] { api.Host, second }.Where(h => h.Services.GetRequiredService<WebhookDispatcher>().Delivering).ToList();
            delivering.Count.ShouldBe(1, "one instance holds the delivering lock");

            // The delivering instance stops; the other takes over and sends what comes next.
            await delivering[0].StopAsync();
            var survivor = delivering[0] == second ? client : onSecond;
            for (var i = 10; i < 15; i++)
            {
                await survivor.PostAsJsonAsync("/api/v1/tasks", new { title = $"Pair {i}" }).ShouldHaveStatusAsync(HttpStatusCode.Created);
            }

            var received = await receiver.WaitForAsync("pair", 15, seconds: 30);
            await Task.Delay(1000);
            receiver.Received("pair").Count.ShouldBe(15);
            received.Select(h => h.Id).Distinct().Count().ShouldBe(15);
            received.ShouldAllBe(h => WebhookTests.Verifies(secret, h));
        }
        finally
        {
            await second.DisposeAsync();
        }
    }

}

/// <summary>Without Webhooks:AllowPrivateNetworks, URLs that resolve to non-public addresses are refused (SSRF).</summary>
public sealed class WebhookAddressTests(AppFixture api) : IClassFixture<AppFixture>
{
    private static readonly string[] Created = ["task.created"];

    [Theory]
    [InlineData("https://127.0.0.1/hook")]
    [InlineData("https://localhost/hook")]
    [InlineData("https://10.1.2.3/hook")]
    [InlineData("https://172.16.0.1/hook")]
    [InlineData("https://192.168.1.1/hook")]
    [InlineData("https://169.254.169.254/latest/meta-data")]
    [InlineData("https://[::1]/hook")]
    [InlineData("https://[fd00::1]/hook")]
    [InlineData("https://[::ffff:127.0.0.1]/hook")]
    [InlineData("https://0.0.0.0/hook")]
    [InlineData("http://203.0.113.10/hook")]
    [InlineData("https://user@203.0.113.10/hook")]
    public async Task A_url_a_webhook_may_not_reach_is_a_400_naming_url(string url)
    {
        var client = api.ClientFor(await api.CreateUserAsync());

        await client.PostAsJsonAsync("/api/v1/webhooks", new { url, eventTypes = Created }).ShouldBeProblemAsync(HttpStatusCode.BadRequest, "url");
    }

    [Fact]
    public async Task A_public_https_address_is_accepted()
    {
        var client = api.ClientFor(await api.CreateUserAsync());

        await client.PostAsJsonAsync("/api/v1/webhooks", new { url = "https://203.0.113.10/hook", eventTypes = Created }).ShouldHaveStatusAsync(HttpStatusCode.Created);
    }
}
