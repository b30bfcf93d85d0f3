using System.Net;
using SliceApi.Features.Tasks;
using SliceApi.Infrastructure.Security;
using SliceApi.Tests.Support;

namespace SliceApi.Tests.Features.Tasks;

public sealed class ChangeTaskStatusTests(AppFixture api) : IClassFixture<AppFixture>
{
    [Fact]
    public async Task The_assignee_changes_the_status_and_nothing_else()
    {
        var owner = await api.CreateUserAsync();
        var assignee = await api.CreateUserAsync();
        var task = await api.CreateTaskAsync(owner.Id, "Shared", assigneeId: assignee.Id);
        var client = api.ClientFor(assignee);

        var changed = await client.PutAsJsonAsync($"/api/v1/tasks/{task.Id}/status", new { status = "done" }).ShouldReturnAsync<TaskResponse>();

        changed.Status.ShouldBe(TaskItemStatus.Done);
        (await api.FindAsync<TaskItem>(t => t.Id == task.Id)).Single().Status.ShouldBe(TaskItemStatus.Done);
        await client.PutAsJsonAsync($"/api/v1/tasks/{task.Id}", new { title = "Renamed by the assignee" }).ShouldBeProblemAsync(HttpStatusCode.Forbidden);
        await client.DeleteAsync($"/api/v1/tasks/{task.Id}").ShouldBeProblemAsync(HttpStatusCode.Forbidden);
        (await api.FindAsync<TaskItem>(t => t.Id == task.Id)).Single().Title.ShouldBe("Shared");
    }

    [Fact]
    public async Task The_owner_and_an_admin_change_the_status()
    {
        var owner = await api.CreateUserAsync();
        var task = await api.CreateTaskAsync(owner.Id, "Mine");

        await api.ClientFor(owner).PutAsJsonAsync($"/api/v1/tasks/{task.Id}/status", new { status = "in_progress" }).ShouldHaveStatusAsync(HttpStatusCode.OK);
        await api.ClientFor(await api.CreateUserAsync(AppRoles.Admin)).PutAsJsonAsync($"/api/v1/tasks/{task.Id}/status", new { status = "done" })
            .ShouldHaveStatusAsync(HttpStatusCode.OK);

        (await api.FindAsync<TaskItem>(t => t.Id == task.Id)).Single().Status.ShouldBe(TaskItemStatus.Done);
    }

    [Fact]
    public async Task A_guest_assignee_reads_but_cannot_change_the_status()
    {
        var guest = await api.CreateUserAsync(AppRoles.Guest);
        var task = await api.CreateTaskAsync((await api.CreateUserAsync()).Id, "For the guest", assigneeId: guest.Id);

        await api.ClientFor(guest).PutAsJsonAsync($"/api/v1/tasks/{task.Id}/status", new { status = "done" }).ShouldBeProblemAsync(HttpStatusCode.Forbidden);

        (await api.FindAsync<TaskItem>(t => t.Id == task.Id)).Single().Status.ShouldBe(TaskItemStatus.Todo);
    }

    [Fact]
    public async Task Someone_neither_owner_nor_assignee_gets_404()
    {
        var task = await api.CreateTaskAsync((await api.CreateUserAsync()).Id, "Private");

        await api.ClientFor(await api.CreateUserAsync()).PutAsJsonAsync($"/api/v1/tasks/{task.Id}/status", new { status = "done" })
            .ShouldBeProblemAsync(HttpStatusCode.NotFound);
    }

    [Theory]
    [InlineData("""{}""", "status")]
    [InlineData("""{"status":"archived"}""", "status")]
    public async Task An_invalid_status_is_a_validation_problem(string body, string errorKey)
    {
        var owner = await api.CreateUserAsync();
        var task = await api.CreateTaskAsync(owner.Id, "Mine");

        await api.ClientFor(owner).SendRawAsync(HttpMethod.Put, $"/api/v1/tasks/{task.Id}/status", body).ShouldBeProblemAsync(HttpStatusCode.BadRequest, errorKey);
    }
}
