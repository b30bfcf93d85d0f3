using System.Net;
using Microsoft.Extensions.DependencyInjection;
using SliceApi.Features.Changes;
using SliceApi.Features.Tasks;
using SliceApi.Infrastructure.Security;
using SliceApi.Tests.Support;

namespace SliceApi.Tests.Features.Changes;

/// <summary>GET /api/v1/changes: the feed of task events below Marten's high-water mark, on PostgreSQL.</summary>
public sealed class ChangeFeedTests(AppFixture api) : IClassFixture<AppFixture>
{
    [Fact]
    public async Task A_client_without_a_cursor_gets_every_change_it_may_see_in_order_with_the_state_after_it()
    {
        var owner = await api.CreateUserAsync();
        var client = api.ClientFor(owner);
        var task = await client.PostAsJsonAsync("/api/v1/tasks", new { title = "Feed me" }).ShouldReturnAsync<TaskResponse>(HttpStatusCode.Created);
        await client.PutAsJsonAsync($"/api/v1/tasks/{task.Id}/status", new { status = "done" }).ShouldHaveStatusAsync(HttpStatusCode.OK);
        await client.DeleteAsync($"/api/v1/tasks/{task.Id}").ShouldHaveStatusAsync(HttpStatusCode.NoContent);

        var changes = await ChangeFeedReader.FollowAsync(client, null, 3);

        changes.Select(c => c.Type).ShouldBe([TaskEventType.Created, TaskEventType.StatusChanged, TaskEventType.Deleted]);
        changes.ShouldAllBe(c => c.TaskId == task.Id);
        changes[0].Event!.Task.Title.ShouldBe("Feed me");
        changes[1].Event!.Task.Status.ShouldBe(TaskItemStatus.Done);
        changes[1].Event!.Changes.ShouldBe([new TaskFieldChangeResponse("status", "todo", "done")]);
        changes[2].Removed.ShouldBeTrue();
        changes[2].Event.ShouldBeNull();
        changes.Take(2).ShouldAllBe(c => !c.Removed);
        changes.Select(c => long.Parse(c.Cursor, System.Globalization.CultureInfo.InvariantCulture)).ShouldBeInOrder(SortDirection.Ascending);
    }

    [Fact]
    public async Task Each_caller_sees_only_its_tasks_and_a_task_reassigned_away_appears_once_as_removed()
    {
        var owner = await api.CreateUserAsync();
        var first = await api.CreateUserAsync(AppRoles.Guest);
        var second = await api.CreateUserAsync();
        var stranger = api.ClientFor(await api.CreateUserAsync());
        var start = await ChangeFeedReader.PositionAsync(api.ClientFor(first));
        var strangerStart = await ChangeFeedReader.PositionAsync(stranger);
        var client = api.ClientFor(owner);
        var task = await client.PostAsJsonAsync("/api/v1/tasks", new { title = "Passed on", assigneeId = first.Id }).ShouldReturnAsync<TaskResponse>(HttpStatusCode.Created);
        await client.PutAsJsonAsync($"/api/v1/tasks/{task.Id}", new { title = "Passed on", assigneeId = second.Id }).ShouldHaveStatusAsync(HttpStatusCode.OK);
        await client.PutAsJsonAsync($"/api/v1/tasks/{task.Id}", new { title = "Renamed after", assigneeId = second.Id }).ShouldHaveStatusAsync(HttpStatusCode.OK);
        var ownerChanges = await ChangeFeedReader.FollowAsync(client, null, 3);

        var guestChanges = await ChangeFeedReader.FollowAsync(api.ClientFor(first), start, 2);
        var secondChanges = await ChangeFeedReader.FollowAsync(api.ClientFor(second), null, 2);

        guestChanges.Select(c => (c.Type, c.Removed)).ShouldBe([(TaskEventType.Created, false), (TaskEventType.Assigned, true)]);
        guestChanges[1].Event.ShouldBeNull(); // nothing of the new assignee is shown to the one it left
        secondChanges.Select(c => (c.Type, c.Removed)).ShouldBe([(TaskEventType.Assigned, false), (TaskEventType.Updated, false)]);
        ownerChanges.Select(c => c.Type).ShouldBe([TaskEventType.Created, TaskEventType.Assigned, TaskEventType.Updated]);
        (await ChangeFeedReader.FollowAsync(stranger, strangerStart, 0)).ShouldBeEmpty();
    }

    [Fact]
    public async Task Pages_that_follow_the_cursor_see_each_change_once_in_commit_order()
    {
        var owner = await api.CreateUserAsync();
        var client = api.ClientFor(owner);
        for (var i = 0; i < 10; i++)
        {
            var task = await client.PostAsJsonAsync("/api/v1/tasks", new { title = $"Paged {i}" }).ShouldReturnAsync<TaskResponse>(HttpStatusCode.Created);
            await client.PutAsJsonAsync($"/api/v1/tasks/{task.Id}/status", new { status = "done" }).ShouldHaveStatusAsync(HttpStatusCode.OK);
        }

        var changes = await ChangeFeedReader.FollowAsync(client, null, 20, limit: 3);

        changes.Count.ShouldBe(20);
        changes.Select(c => c.Event!.Id).Distinct().Count().ShouldBe(20);
        changes.Where((_, i) => i % 2 == 0).ShouldAllBe(c => c.Type == TaskEventType.Created);
    }

    [Fact]
    public async Task A_reader_following_concurrent_writers_sees_every_event_once_and_skips_none()
    {
        var writers = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => api.CreateUserAsync()));
        var admin = api.ClientFor(await api.CreateUserAsync(AppRoles.Admin));
        for (var round = 0; round < 3; round++)
        {
            var start = await ChangeFeedReader.PositionAsync(admin);
            var seen = new List<ChangeResponse>();
            using var stop = new CancellationTokenSource();
            var reading = Task.Run(async () =>
            {
                var after = start;
                while (!stop.IsCancellationRequested)
                {
                    var page = await admin.GetAsync($"/api/v1/changes?after={after}&limit=7").ShouldReturnAsync<ListChangesResponse>();
                    seen.AddRange(page.Items);
                    after = page.NextCursor;
                    if (!page.HasMore)
                    {
                        await Task.Delay(100); // a polling client, within the per-user rate limit
                    }
                }
            });

            var tasks = await Race.AtOnceAsync(writers.Length, async i =>
            {
                var client = api.ClientFor(writers[i]);
                var task = await client.PostAsJsonAsync("/api/v1/tasks", new { title = $"Round {round}" }).ShouldReturnAsync<TaskResponse>(HttpStatusCode.Created);
                for (var change = 0; change < 4; change++)
                {
                    await client.PutAsJsonAsync($"/api/v1/tasks/{task.Id}", new { title = $"Round {round} change {change}" }).ShouldHaveStatusAsync(HttpStatusCode.OK);
                }

                return task.Id;
            });
            var expected = new List<Guid>();
            foreach (var id in tasks)
            {
                expected.AddRange((await admin.GetAsync($"/api/v1/tasks/{id}/history").ShouldReturnAsync<TaskHistoryResponse>()).Items.Select(e => e.Id));
            }

            var deadline = DateTime.UtcNow.AddSeconds(20);
            while (seen.Count(c => tasks.Contains(c.TaskId)) < expected.Count && DateTime.UtcNow < deadline)
            {
                await Task.Delay(50);
            }

            await stop.CancelAsync();
            await reading;
            var ours = seen.Where(c => tasks.Contains(c.TaskId)).ToList();
            ours.Select(c => c.Event!.Id).Order().ShouldBe(expected.Order(), $"round {round}");
            seen.Select(c => long.Parse(c.Cursor, System.Globalization.CultureInfo.InvariantCulture)).ShouldBeInOrder(SortDirection.Ascending);
            seen.Select(c => c.Cursor).Distinct().Count().ShouldBe(seen.Count);
            foreach (var group in ours.GroupBy(c => c.TaskId))
            {
                group.Select(c => c.Event!.Version).ShouldBe([1L, 2, 3, 4, 5]); // each task's events in their order
            }
        }
    }

    [Fact]
    public async Task A_cursor_this_api_never_issued_is_a_400_naming_after()
    {
        var client = api.ClientFor(await api.CreateUserAsync());

        await client.GetAsync("/api/v1/changes?after=abc").ShouldBeProblemAsync(HttpStatusCode.BadRequest, "after");
        await client.GetAsync("/api/v1/changes?after=-1").ShouldBeProblemAsync(HttpStatusCode.BadRequest, "after");
        await client.GetAsync($"/api/v1/changes?after={long.MaxValue}").ShouldBeProblemAsync(HttpStatusCode.BadRequest, "after");
        await client.GetAsync("/api/v1/changes?limit=0").ShouldBeProblemAsync(HttpStatusCode.BadRequest, "limit");
        await client.GetAsync("/api/v1/changes?limit=1001").ShouldBeProblemAsync(HttpStatusCode.BadRequest, "limit");
        await api.CreateAnonymousClient().GetAsync("/api/v1/changes").ShouldBeProblemAsync(HttpStatusCode.Unauthorized);
    }
}

/// <summary>Pruning: events older than the retention go, and a cursor from before them is a 410 (its own database).</summary>
public sealed class ChangeRetentionTests(AppFixture api) : IClassFixture<AppFixture>
{
    [Fact]
    public async Task Pruned_changes_make_an_older_cursor_410_and_the_feed_restarts_after_them()
    {
        var owner = await api.CreateUserAsync();
        var client = api.ClientFor(owner);
        var old = await client.PostAsJsonAsync("/api/v1/tasks", new { title = "Old news" }).ShouldReturnAsync<TaskResponse>(HttpStatusCode.Created);
        var before = await ChangeFeedReader.FollowAsync(client, null, 1);

        var pruned = await api.Services.GetRequiredService<ChangeRetention>().PruneAsync(DateTimeOffset.UtcNow.AddDays(1), CancellationToken.None);
        var fresh = await client.PostAsJsonAsync("/api/v1/tasks", new { title = "Fresh" }).ShouldReturnAsync<TaskResponse>(HttpStatusCode.Created);

        pruned.ShouldBeGreaterThanOrEqualTo(1);
        var problem = await client.GetAsync("/api/v1/changes?after=0").ShouldBeProblemAsync(HttpStatusCode.Gone);
        problem.GetProperty("detail").GetString()!.ShouldContain("GET /api/v1/tasks");
        (await ChangeFeedReader.FollowAsync(client, before[0].Cursor, 1)).Single().TaskId.ShouldBe(fresh.Id); // the last change before the cut still reads on
        (await ChangeFeedReader.FollowAsync(client, null, 1)).Single().TaskId.ShouldBe(fresh.Id);
        (await client.GetAsync($"/api/v1/tasks/{old.Id}/history").ShouldReturnAsync<TaskHistoryResponse>()).Items.ShouldBeEmpty();
    }
}

/// <summary>Reads the changes feed through HTTP, waiting for the high-water mark to pass what was just written.</summary>
internal static class ChangeFeedReader
{
    /// <summary>Follows the feed from <paramref name="after"/> until <paramref name="count"/> changes came and the feed is up to date (10 s at most).</summary>
    public static async Task<List<ChangeResponse>> FollowAsync(ScenarioClient client, string? after, int count, int limit = 100)
    {
        var changes = new List<ChangeResponse>();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            var query = after is null ? $"/api/v1/changes?limit={limit}" : $"/api/v1/changes?after={after}&limit={limit}";
            var page = await client.GetAsync(query).ShouldReturnAsync<ListChangesResponse>();
            changes.AddRange(page.Items);
            after = page.NextCursor;
            if (!page.HasMore && (changes.Count >= count || DateTime.UtcNow > deadline))
            {
                if (count == 0)
                {
                    await Task.Delay(1000); // nothing expected: give a late change the time to show
                    changes.AddRange((await client.GetAsync($"/api/v1/changes?after={after}").ShouldReturnAsync<ListChangesResponse>()).Items);
                }

                return changes;
            }

            if (!page.HasMore)
            {
                await Task.Delay(50);
            }
        }
    }

    /// <summary>The caller's position at the end of the feed now.</summary>
    public static async Task<string> PositionAsync(ScenarioClient client)
    {
        string? after = null;
        while (true)
        {
            var page = await client.GetAsync(after is null ? "/api/v1/changes?limit=1000" : $"/api/v1/changes?after={after}&limit=1000").ShouldReturnAsync<ListChangesResponse>();
            after = page.NextCursor;
            if (!page.HasMore)
            {
                return after;
            }
        }
    }
}
