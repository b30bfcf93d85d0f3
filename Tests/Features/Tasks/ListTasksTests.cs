using System.Net;
using SliceApi.Features.Tasks;
using SliceApi.Infrastructure.Security;
using SliceApi.Tests.Support;

namespace SliceApi.Tests.Features.Tasks;

public sealed class ListTasksTests(AppFixture api) : IClassFixture<AppFixture>
{
    [Fact]
    public async Task List_returns_only_the_callers_tasks_newest_first()
    {
        var user = await api.CreateUserAsync();
        var client = api.ClientFor(user);
        var mine = new List<TaskResponse>();
        for (var i = 0; i < 3; i++)
        {
            mine.Add(await client.PostAsJsonAsync("/api/v1/tasks", new { title = $"Mine {i}" }).ShouldReturnAsync<TaskResponse>(HttpStatusCode.Created));
        }

        await api.CreateTaskAsync((await api.CreateUserAsync()).Id, "Someone else's");

        var page = await client.GetAsync("/api/v1/tasks").ShouldReturnAsync<ListTasksResponse>();

        page.Items.Select(t => t.Id).ShouldBe(NewestFirst(mine).Select(t => t.Id));
        page.NextCursor.ShouldBeNull();
    }

    [Fact]
    public async Task List_pages_through_every_task_by_cursor_without_gaps_or_repeats()
    {
        var user = await api.CreateUserAsync();
        var client = api.ClientFor(user);
        var created = new List<TaskItem>();
        for (var i = 0; i < 5; i++)
        {
            created.Add(await api.CreateTaskAsync(user.Id, $"Task {i}"));
        }

        var first = await client.GetAsync("/api/v1/tasks?limit=2").ShouldReturnAsync<ListTasksResponse>();
        var second = await client.GetAsync($"/api/v1/tasks?limit=2&cursor={first.NextCursor}").ShouldReturnAsync<ListTasksResponse>();
        var third = await client.GetAsync($"/api/v1/tasks?limit=2&cursor={second.NextCursor}").ShouldReturnAsync<ListTasksResponse>();

        first.Items.Count.ShouldBe(2);
        second.Items.Count.ShouldBe(2);
        third.Items.Count.ShouldBe(1);
        third.NextCursor.ShouldBeNull();
        first.Items.Concat(second.Items).Concat(third.Items).Select(t => t.Id)
            .ShouldBe(created.OrderByDescending(t => t.CreatedAt).ThenByDescending(t => t.Id.ToString(), StringComparer.Ordinal).Select(t => t.Id));
    }

    [Fact]
    public async Task A_task_created_after_the_first_page_does_not_shift_the_next_page()
    {
        var user = await api.CreateUserAsync();
        var client = api.ClientFor(user);
        var older = await api.CreateTaskAsync(user.Id, "Older");
        var newer = await api.CreateTaskAsync(user.Id, "Newer");

        var first = await client.GetAsync("/api/v1/tasks?limit=1").ShouldReturnAsync<ListTasksResponse>();
        await api.CreateTaskAsync(user.Id, "Newest, created between pages");
        var second = await client.GetAsync($"/api/v1/tasks?limit=1&cursor={first.NextCursor}").ShouldReturnAsync<ListTasksResponse>();

        first.Items.ShouldHaveSingleItem().Id.ShouldBe(newer.Id);
        second.Items.ShouldHaveSingleItem().Id.ShouldBe(older.Id);
    }

    [Fact]
    public async Task List_defaults_to_20_items_per_page()
    {
        var user = await api.CreateUserAsync();
        for (var i = 0; i < 21; i++)
        {
            await api.CreateTaskAsync(user.Id, $"Task {i}");
        }

        var page = await api.ClientFor(user).GetAsync("/api/v1/tasks").ShouldReturnAsync<ListTasksResponse>();

        page.Items.Count.ShouldBe(20);
        page.NextCursor.ShouldNotBeNull();
    }

    [Fact]
    public async Task List_filters_by_status()
    {
        var user = await api.CreateUserAsync();
        var done = await api.CreateTaskAsync(user.Id, "Finished", TaskItemStatus.Done);
        await api.CreateTaskAsync(user.Id, "Open", TaskItemStatus.Todo);
        var inProgress = await api.CreateTaskAsync(user.Id, "Busy", TaskItemStatus.InProgress);
        var client = api.ClientFor(user);

        (await client.GetAsync("/api/v1/tasks?status=done").ShouldReturnAsync<ListTasksResponse>()).Items.ShouldHaveSingleItem().Id.ShouldBe(done.Id);
        (await client.GetAsync("/api/v1/tasks?status=in_progress").ShouldReturnAsync<ListTasksResponse>()).Items.ShouldHaveSingleItem().Id.ShouldBe(inProgress.Id);
    }

    [Fact]
    public async Task List_as_admin_includes_other_users_tasks()
    {
        var othersTask = await api.CreateTaskAsync((await api.CreateUserAsync()).Id, "Visible to admins");

        var page = await api.ClientFor(await api.CreateUserAsync(AppRoles.Admin)).GetAsync("/api/v1/tasks?limit=100").ShouldReturnAsync<ListTasksResponse>();

        page.Items.Select(t => t.Id).ShouldContain(othersTask.Id);
    }

    [Fact]
    public async Task List_as_guest_returns_only_the_tasks_assigned_to_the_guest()
    {
        var guest = await api.CreateUserAsync(AppRoles.Guest);
        var assigned = await api.CreateTaskAsync((await api.CreateUserAsync()).Id, "For the guest", assigneeId: guest.Id);
        await api.CreateTaskAsync(guest.Id, "Owned, not assigned");

        var page = await api.ClientFor(guest).GetAsync("/api/v1/tasks").ShouldReturnAsync<ListTasksResponse>();

        page.Items.ShouldHaveSingleItem().Id.ShouldBe(assigned.Id);
    }

    [Fact]
    public async Task List_as_user_includes_tasks_assigned_to_them()
    {
        var user = await api.CreateUserAsync();
        var own = await api.CreateTaskAsync(user.Id, "Own");
        var assigned = await api.CreateTaskAsync((await api.CreateUserAsync()).Id, "Assigned", assigneeId: user.Id);

        var page = await api.ClientFor(user).GetAsync("/api/v1/tasks").ShouldReturnAsync<ListTasksResponse>();

        page.Items.Select(t => t.Id).Order().ShouldBe(new[] { own.Id, assigned.Id }.Order());
    }

    [Theory]
    [InlineData("limit=0", "limit")]
    [InlineData("limit=101", "limit")]
    [InlineData("limit=abc", "limit")]
    [InlineData("cursor=not-a-cursor", "cursor")]
    [InlineData("cursor=AAAAAAAA", "cursor")]
    [InlineData("status=archived", "status")]
    [InlineData("status=Done", "status")]
    [InlineData("status=todo&status=archived", "status")]
    [InlineData("dueBefore=2026-12-01", "dueBefore")]
    [InlineData("dueBefore=2026-12-01T12:00:00", "dueBefore")]
    [InlineData("dueAfter=tomorrow", "dueAfter")]
    [InlineData("dueAfter=2026-12-01T12:00:00Z&dueBefore=2026-12-01T12:00:00Z", "dueBefore")]
    [InlineData("assigneeId=not-a-uuid", "assigneeId")]
    [InlineData("q=", "q")]
    [InlineData("q=%20%20", "q")]
    [InlineData("sort=priority", "sort")]
    [InlineData("sort=createdat", "sort")]
    [InlineData("sort=--title", "sort")]
    public async Task List_with_invalid_query_returns_validation_problem_naming_the_parameter(string query, string errorKey)
    {
        var client = api.ClientFor(await api.CreateUserAsync());

        await client.GetAsync($"/api/v1/tasks?{query}").ShouldBeProblemAsync(HttpStatusCode.BadRequest, errorKey);
    }

    [Fact]
    public async Task List_anonymously_returns_401_problem()
    {
        await api.CreateAnonymousClient().GetAsync("/api/v1/tasks").ShouldBeProblemAsync(HttpStatusCode.Unauthorized);
    }

    // PostgreSQL orders uuids by their bytes, which is the ordinal order of their canonical strings.
    private static IEnumerable<TaskResponse> NewestFirst(IEnumerable<TaskResponse> tasks) =>
        tasks.OrderByDescending(t => t.CreatedAt).ThenByDescending(t => t.Id.ToString(), StringComparer.Ordinal);
}
