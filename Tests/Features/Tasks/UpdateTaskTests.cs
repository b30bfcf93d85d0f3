using System.Net;
using SliceApi.Features.Tasks;
using SliceApi.Infrastructure.Security;
using SliceApi.Tests.Support;

namespace SliceApi.Tests.Features.Tasks;

public sealed class UpdateTaskTests(AppFixture api) : IClassFixture<AppFixture>
{
    [Fact]
    public async Task Update_own_task_replaces_the_writable_fields_and_stores_them()
    {
        var user = await api.CreateUserAsync();
        var client = api.ClientFor(user);
        var created = await client.PostAsJsonAsync("/api/v1/tasks", new { title = "Draft", description = "old", dueAt = "2026-12-01T10:00:00Z" }).ShouldReturnAsync<TaskResponse>(HttpStatusCode.Created);

        var updated = await client.PutAsJsonAsync($"/api/v1/tasks/{created.Id}", new { title = " Final ", status = "done", dueAt = "2027-01-02T03:04:05-02:00" }).ShouldReturnAsync<TaskResponse>();

        updated.Id.ShouldBe(created.Id);
        updated.Title.ShouldBe("Final");
        updated.Description.ShouldBeNull(); // PUT replaces: an absent optional field is cleared
        updated.Status.ShouldBe(TaskItemStatus.Done);
        updated.DueAt.ShouldBe(new DateTimeOffset(2027, 1, 2, 5, 4, 5, TimeSpan.Zero));
        updated.CreatedAt.ShouldBe(created.CreatedAt);
        updated.UpdatedAt.ShouldBeGreaterThanOrEqualTo(created.UpdatedAt);

        var stored = (await api.FindAsync<TaskItem>(t => t.Id == created.Id)).ShouldHaveSingleItem();
        stored.Title.ShouldBe("Final");
        stored.Description.ShouldBeNull();
        stored.Status.ShouldBe(TaskItemStatus.Done);
        stored.OwnerId.ShouldBe(user.Id);
    }

    [Fact]
    public async Task Update_without_status_sets_todo()
    {
        var client = api.ClientFor(await api.CreateUserAsync());
        var created = await client.PostAsJsonAsync("/api/v1/tasks", new { title = "t", status = "done" }).ShouldReturnAsync<TaskResponse>(HttpStatusCode.Created);

        var updated = await client.PutAsJsonAsync($"/api/v1/tasks/{created.Id}", new { title = "t" }).ShouldReturnAsync<TaskResponse>();

        updated.Status.ShouldBe(TaskItemStatus.Todo);
    }

    [Fact]
    public async Task Update_another_users_task_returns_404_and_changes_nothing()
    {
        var owner = await api.CreateUserAsync();
        var task = await api.CreateTaskAsync(owner.Id, "Untouched");
        var other = api.ClientFor(await api.CreateUserAsync());

        await other.PutAsJsonAsync($"/api/v1/tasks/{task.Id}", new { title = "Hijacked" }).ShouldBeProblemAsync(HttpStatusCode.NotFound);

        (await api.FindAsync<TaskItem>(t => t.Id == task.Id)).ShouldHaveSingleItem().Title.ShouldBe("Untouched");
    }

    [Fact]
    public async Task Update_another_users_task_as_admin_succeeds_and_keeps_the_owner()
    {
        var owner = await api.CreateUserAsync();
        var task = await api.CreateTaskAsync(owner.Id, "Before");
        var admin = api.ClientFor(await api.CreateUserAsync(AppRoles.Admin));

        var updated = await admin.PutAsJsonAsync($"/api/v1/tasks/{task.Id}", new { title = "After" }).ShouldReturnAsync<TaskResponse>();

        updated.Title.ShouldBe("After");
        updated.OwnerId.ShouldBe(owner.Id);
    }

    [Fact]
    public async Task Update_own_task_as_guest_returns_403_and_changes_nothing()
    {
        var guest = await api.CreateUserAsync(AppRoles.Guest);
        var task = await api.CreateTaskAsync(guest.Id, "Read only");

        await api.ClientFor(guest).PutAsJsonAsync($"/api/v1/tasks/{task.Id}", new { title = "Changed" }).ShouldBeProblemAsync(HttpStatusCode.Forbidden);

        (await api.FindAsync<TaskItem>(t => t.Id == task.Id)).ShouldHaveSingleItem().Title.ShouldBe("Read only");
    }

    [Theory]
    [InlineData("""{"title":""}""", "title")]
    [InlineData("""{"title":"x","status":"archived"}""", "status")]
    [InlineData("""{"title":"x","dueAt":"2026-13-01T00:00:00Z"}""", "dueAt")]
    [InlineData("""{"title":"x","description":"DESC4001"}""", "description")]
    public async Task Update_with_invalid_field_returns_validation_problem_and_changes_nothing(string body, string errorKey)
    {
        var user = await api.CreateUserAsync();
        var task = await api.CreateTaskAsync(user.Id, "Stable");

        await api.ClientFor(user).SendRawAsync(HttpMethod.Put, $"/api/v1/tasks/{task.Id}", body.Replace("DESC4001", new string('d', 4001), StringComparison.Ordinal))
            .ShouldBeProblemAsync(HttpStatusCode.BadRequest, errorKey);

        (await api.FindAsync<TaskItem>(t => t.Id == task.Id)).ShouldHaveSingleItem().Title.ShouldBe("Stable");
    }

    [Fact]
    public async Task Update_with_malformed_json_returns_400_problem_and_changes_nothing()
    {
        var user = await api.CreateUserAsync();
        var task = await api.CreateTaskAsync(user.Id, "Stable");

        await api.ClientFor(user).SendRawAsync(HttpMethod.Put, $"/api/v1/tasks/{task.Id}", "{\"title\":\"x\",").ShouldBeProblemAsync(HttpStatusCode.BadRequest);

        (await api.FindAsync<TaskItem>(t => t.Id == task.Id)).ShouldHaveSingleItem().Title.ShouldBe("Stable");
    }

    [Fact]
    public async Task Update_unknown_task_returns_404_problem()
    {
        var client = api.ClientFor(await api.CreateUserAsync());

        await client.PutAsJsonAsync($"/api/v1/tasks/{Guid.NewGuid()}", new { title = "x" }).ShouldBeProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Update_with_invalid_id_returns_400_problem()
    {
        var client = api.ClientFor(await api.CreateUserAsync());

        await client.PutAsJsonAsync("/api/v1/tasks/123", new { title = "x" }).ShouldBeProblemAsync(HttpStatusCode.BadRequest, "id");
    }

    [Fact]
    public async Task Update_anonymously_returns_401_problem()
    {
        await api.CreateAnonymousClient().PutAsJsonAsync($"/api/v1/tasks/{Guid.NewGuid()}", new { title = "x" }).ShouldBeProblemAsync(HttpStatusCode.Unauthorized);
    }
}
