using System.Net;
using Microsoft.Extensions.DependencyInjection;
using SliceApi.Features.ApiKeys;
using SliceApi.Features.Tasks;
using SliceApi.Infrastructure.Data;
using SliceApi.Infrastructure.Security;
using SliceApi.Tests.Support;

namespace SliceApi.Tests.Features.Tasks;

/// <summary>GET /api/v1/tasks/{id}/history: the events Marten's event store holds for every change, on PostgreSQL.</summary>
public sealed class TaskHistoryTests(AppFixture api) : IClassFixture<AppFixture>
{
    private static readonly string[] WriteScopes = ["tasks:read", "tasks:write"];

    [Fact]
    public async Task Every_change_is_one_event_in_order_with_old_and_new_values_who_and_the_trace_id()
    {
        var owner = await api.CreateUserAsync();
        var assignee = await api.CreateUserAsync();
        var admin = await api.CreateUserAsync(AppRoles.Admin);
        var client = api.ClientFor(owner);
        var created = await client.PostAsJsonAsync("/api/v1/tasks", new { title = "Pay rent" }).ShouldReturnAsync<TaskResponse>(HttpStatusCode.Created);
        var url = $"/api/v1/tasks/{created.Id}";

        await client.PutAsJsonAsync(url, new { title = "Pay the rent", status = "in_progress", assigneeId = assignee.Id, dueAt = "2026-12-01T17:00:00Z" })
            .ShouldHaveStatusAsync(HttpStatusCode.OK);
        await client.Scenario(s =>
        {
            s.Patch.Text("""{"description":"By transfer","assigneeId":null}""").ToUrl(url);
            s.WithRequestHeader("Content-Type", "application/merge-patch+json");
        });
        await api.ClientFor(admin).PutAsJsonAsync($"{url}/status", new { status = "done" }).ShouldHaveStatusAsync(HttpStatusCode.OK);
        await client.DeleteAsync(url).ShouldHaveStatusAsync(HttpStatusCode.NoContent);

        var history = await api.ClientFor(admin).GetAsync($"{url}/history").ShouldReturnAsync<TaskHistoryResponse>();

        history.NextCursor.ShouldBeNull();
        history.Items.Select(e => e.Type).ShouldBe([
            TaskEventType.Created, TaskEventType.Updated, TaskEventType.StatusChanged, TaskEventType.Assigned,
            TaskEventType.Updated, TaskEventType.Unassigned, TaskEventType.StatusChanged, TaskEventType.Deleted]);
        history.Items.Select(e => e.Version).ShouldBe([1L, 2, 3, 4, 5, 6, 7, 8]);
        history.Items.ShouldAllBe(e => e.TaskId == created.Id);
        history.Items[1].Changes.ShouldBe([
            new TaskFieldChangeResponse("title", "Pay rent", "Pay the rent"), new TaskFieldChangeResponse("dueAt", null, "2026-12-01T17:00:00Z")]);
        history.Items[2].Changes.ShouldBe([new TaskFieldChangeResponse("status", "todo", "in_progress")]);
        history.Items[3].Changes.ShouldBe([new TaskFieldChangeResponse("assigneeId", null, assignee.Id.ToString())]);
        history.Items[4].Changes.ShouldBe([new TaskFieldChangeResponse("description", null, "By transfer")]);
        history.Items[5].Changes.ShouldBe([new TaskFieldChangeResponse("assigneeId", assignee.Id.ToString(), null)]);
        history.Items[6].Changes.ShouldBe([new TaskFieldChangeResponse("status", "in_progress", "done")]);
        history.Items[6].Actor.ShouldBe(new TaskEventActorResponse(admin.Id, TaskEventChannel.AccessToken, null, null));
        history.Items[7].Actor.UserId.ShouldBe(owner.Id);
        history.Items[7].Task.Status.ShouldBe(TaskItemStatus.Done); // as it was when deleted
        history.Items[0].Task.Title.ShouldBe("Pay rent");
        history.Items[3].Task.AssigneeId.ShouldBe(assignee.Id);
        history.Items.ShouldAllBe(e => e.TraceId != null && e.TraceId.Length == 32);
        history.Items.Select(e => e.TraceId).Distinct().Count().ShouldBe(5); // one per request
        history.Items.Select(e => e.OccurredAt).ShouldBeInOrder();
        history.Items.ShouldAllBe(e => e.OccurredAt.Offset == TimeSpan.Zero);
        history.Items.Select(e => e.Id).Distinct().Count().ShouldBe(8);
    }

    [Fact]
    public async Task A_deleted_tasks_history_is_for_admins_only()
    {
        var owner = await api.CreateUserAsync();
        var created = await api.ClientFor(owner).PostAsJsonAsync("/api/v1/tasks", new { title = "Gone" }).ShouldReturnAsync<TaskResponse>(HttpStatusCode.Created);
        var url = $"/api/v1/tasks/{created.Id}/history";
        (await api.ClientFor(owner).GetAsync(url).ShouldReturnAsync<TaskHistoryResponse>()).Items.Count.ShouldBe(1);

        await api.ClientFor(owner).DeleteAsync($"/api/v1/tasks/{created.Id}").ShouldHaveStatusAsync(HttpStatusCode.NoContent);

        await api.ClientFor(owner).GetAsync(url).ShouldBeProblemAsync(HttpStatusCode.NotFound);
        (await api.ClientFor(await api.CreateUserAsync(AppRoles.Admin)).GetAsync(url).ShouldReturnAsync<TaskHistoryResponse>()).Items.Count.ShouldBe(2);
    }

    [Fact]
    public async Task Whoever_may_see_the_task_reads_its_history_and_nobody_else()
    {
        var owner = await api.CreateUserAsync();
        var guest = await api.CreateUserAsync(AppRoles.Guest);
        var created = await api.ClientFor(owner).PostAsJsonAsync("/api/v1/tasks", new { title = "Shared", assigneeId = guest.Id })
            .ShouldReturnAsync<TaskResponse>(HttpStatusCode.Created);
        var url = $"/api/v1/tasks/{created.Id}/history";

        (await api.ClientFor(guest).GetAsync(url).ShouldReturnAsync<TaskHistoryResponse>()).Items.Single().Type.ShouldBe(TaskEventType.Created);
        await api.ClientFor(await api.CreateUserAsync()).GetAsync(url).ShouldBeProblemAsync(HttpStatusCode.NotFound);
        await api.ClientFor(await api.CreateUserAsync(AppRoles.Admin)).GetAsync($"/api/v1/tasks/{Guid.NewGuid()}/history").ShouldBeProblemAsync(HttpStatusCode.NotFound);
        await api.CreateAnonymousClient().GetAsync(url).ShouldBeProblemAsync(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Pages_follow_the_cursor_and_the_link_header_without_gaps_or_repeats()
    {
        var owner = await api.CreateUserAsync();
        var client = api.ClientFor(owner);
        var created = await client.PostAsJsonAsync("/api/v1/tasks", new { title = "Many changes" }).ShouldReturnAsync<TaskResponse>(HttpStatusCode.Created);
        for (var i = 1; i <= 6; i++)
        {
            await client.PutAsJsonAsync($"/api/v1/tasks/{created.Id}", new { title = $"Change {i}" }).ShouldHaveStatusAsync(HttpStatusCode.OK);
        }

        List<long> versions = [];
        var next = $"/api/v1/tasks/{created.Id}/history?limit=3";
        var pages = 0;
        while (next is not null)
        {
            var page = await client.GetAsync(next).ShouldHaveStatusAsync(HttpStatusCode.OK);
            var body = await page.ReadAsJsonAsync<TaskHistoryResponse>();
            versions.AddRange(body!.Items.Select(e => e.Version));
            next = page.HasHeader("Link") ? page.Header("Link")[0].Split('<', '>')[1] : null;
            (next is null).ShouldBe(body.NextCursor is null);
            pages++;
        }

        versions.ShouldBe([1L, 2, 3, 4, 5, 6, 7]);
        pages.ShouldBe(3);
        await client.GetAsync($"/api/v1/tasks/{created.Id}/history?cursor=abc").ShouldBeProblemAsync(HttpStatusCode.BadRequest, "cursor");
        await client.GetAsync($"/api/v1/tasks/{created.Id}/history?limit=0").ShouldBeProblemAsync(HttpStatusCode.BadRequest, "limit");
    }

    [Fact]
    public async Task An_api_key_is_named_and_a_replay_a_refused_write_and_a_change_to_nothing_add_no_event()
    {
        var owner = await api.CreateUserAsync();
        var client = api.ClientFor(owner);
        var key = await client.PostAsJsonAsync("/api/v1/api-keys", new { name = "sync", scopes = WriteScopes }).ShouldReturnAsync<CreateApiKeyResponse>(HttpStatusCode.Created);
        var keyClient = api.CreateApiKeyClient(key.Key);
        var idempotencyKey = Guid.NewGuid().ToString();
        var first = await keyClient.Scenario(s =>
        {
            s.Post.Json(new { title = "Once" }).ToUrl("/api/v1/tasks");
            s.WithRequestHeader(IdempotencyKeys.Header, idempotencyKey);
            s.StatusCodeShouldBe(HttpStatusCode.Created);
        });
        var task = await first.ReadAsJsonAsync<TaskResponse>();
        await keyClient.Scenario(s =>
        {
            s.Post.Json(new { title = "Once" }).ToUrl("/api/v1/tasks");
            s.WithRequestHeader(IdempotencyKeys.Header, idempotencyKey);
            s.StatusCodeShouldBe(HttpStatusCode.Created);
        });
        await client.Scenario(s =>
        {
            s.Put.Json(new { title = "Stale" }).ToUrl($"/api/v1/tasks/{task!.Id}");
            s.WithRequestHeader("If-Match", "\"99\"");
            s.StatusCodeShouldBe(HttpStatusCode.PreconditionFailed);
        });
        await client.PutAsJsonAsync($"/api/v1/tasks/{task!.Id}", new { title = "Once" }).ShouldHaveStatusAsync(HttpStatusCode.OK);
        await client.PutAsJsonAsync($"/api/v1/tasks/{task.Id}/status", new { status = "todo" }).ShouldHaveStatusAsync(HttpStatusCode.OK);

        var history = await client.GetAsync($"/api/v1/tasks/{task.Id}/history").ShouldReturnAsync<TaskHistoryResponse>();

        history.Items.Single().Actor.ShouldBe(new TaskEventActorResponse(owner.Id, TaskEventChannel.ApiKey, key.ApiKey.Id, null));
    }

    [Fact]
    public async Task Deleting_accounts_records_the_unassignment_and_the_deletion_of_their_tasks()
    {
        var owner = await api.CreateUserAsync();
        var assignee = await api.CreateUserAsync();
        var admin = api.ClientFor(await api.CreateUserAsync(AppRoles.Admin));
        var task = await api.ClientFor(owner).PostAsJsonAsync("/api/v1/tasks", new { title = "Orphan", assigneeId = assignee.Id })
            .ShouldReturnAsync<TaskResponse>(HttpStatusCode.Created);

        await api.ClientFor(assignee).DeleteAsync($"/api/v1/users/{assignee.Id}").ShouldHaveStatusAsync(HttpStatusCode.NoContent);
        await api.ClientFor(owner).DeleteAsync($"/api/v1/users/{owner.Id}").ShouldHaveStatusAsync(HttpStatusCode.NoContent);

        var history = await admin.GetAsync($"/api/v1/tasks/{task.Id}/history").ShouldReturnAsync<TaskHistoryResponse>();
        history.Items.Select(e => e.Type).ShouldBe([TaskEventType.Created, TaskEventType.Unassigned, TaskEventType.Deleted]);
        history.Items[1].Actor.UserId.ShouldBe(assignee.Id);
        history.Items[2].Actor.UserId.ShouldBe(owner.Id);
    }

    [Fact]
    public async Task Concurrent_writes_of_one_task_each_add_their_event_and_the_values_chain()
    {
        var owner = await api.CreateUserAsync();
        var client = api.ClientFor(owner);
        for (var round = 0; round < 3; round++)
        {
            var task = await client.PostAsJsonAsync("/api/v1/tasks", new { title = "Raced" }).ShouldReturnAsync<TaskResponse>(HttpStatusCode.Created);

            await Race.AtOnceAsync(12, i => client.PutAsJsonAsync($"/api/v1/tasks/{task.Id}", new { title = $"Writer {i}" }).ShouldHaveStatusAsync(HttpStatusCode.OK));

            var history = await client.GetAsync($"/api/v1/tasks/{task.Id}/history?limit=100").ShouldReturnAsync<TaskHistoryResponse>();
            history.Items.Count.ShouldBe(13);
            history.Items.Select(e => e.Version).ShouldBe(Enumerable.Range(1, 13).Select(v => (long)v));
            for (var i = 2; i < history.Items.Count; i++)
            {
                history.Items[i].Changes.Single().OldValue.ShouldBe(history.Items[i - 1].Changes.Single().NewValue);
            }

            var stored = await client.GetAsync($"/api/v1/tasks/{task.Id}").ShouldReturnAsync<TaskResponse>();
            history.Items[^1].Task.ShouldBe(stored);
        }
    }

    [Fact]
    public async Task Older_tasks_get_their_created_event_once_from_their_stored_state()
    {
        var owner = await api.CreateUserAsync();
        var older = await api.CreateTaskAsync(owner.Id, "Before the history", TaskItemStatus.InProgress); // stored without events
        var store = api.Services.GetRequiredService<Marten.IDocumentStore>();
        await api.WithDocumentsAsync(session =>
        {
            session.Delete<AppliedDataMigration>(new TaskHistoryStart().Name);
            return session.SaveChangesAsync();
        });

        await Task.WhenAll(Enumerable.Range(0, 3).Select(_ =>
            DataMigrations.ApplyAsync(store, [new TaskHistoryStart()], TimeProvider.System, CancellationToken.None)));

        var history = await api.ClientFor(owner).GetAsync($"/api/v1/tasks/{older.Id}/history").ShouldReturnAsync<TaskHistoryResponse>();
        var created = history.Items.ShouldHaveSingleItem();
        created.Type.ShouldBe(TaskEventType.Created);
        created.Actor.ShouldBe(new TaskEventActorResponse(null, TaskEventChannel.System, null, null));
        created.Task.Title.ShouldBe("Before the history");
        created.Task.Status.ShouldBe(TaskItemStatus.InProgress);
        created.Task.CreatedAt.ShouldBe(older.CreatedAt);
        (await api.FindAsync<AppliedDataMigration>(m => m.Id == "2026-12-task-history")).ShouldHaveSingleItem();
    }
}
