using System.Net;
using SliceApi.Features.Tasks;
using SliceApi.Infrastructure.Security;
using SliceApi.Tests.Support;

namespace SliceApi.Tests.Features.Tasks;

public sealed class DeleteTaskTests(AppFixture api) : IClassFixture<AppFixture>
{
    [Fact]
    public async Task Delete_own_task_returns_204_and_removes_it()
    {
        var user = await api.CreateUserAsync();
        var task = await api.CreateTaskAsync(user.Id, "Done with it");
        var client = api.ClientFor(user);

        var response = await client.DeleteAsync($"/api/v1/tasks/{task.Id}").ShouldHaveStatusAsync(HttpStatusCode.NoContent);

        (await response.ReadAsTextAsync()).ShouldBeEmpty();
        (await api.FindAsync<TaskItem>(t => t.Id == task.Id)).ShouldBeEmpty();
        await client.GetAsync($"/api/v1/tasks/{task.Id}").ShouldBeProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Delete_twice_returns_404_the_second_time()
    {
        var user = await api.CreateUserAsync();
        var task = await api.CreateTaskAsync(user.Id, "Once");
        var client = api.ClientFor(user);
        await client.DeleteAsync($"/api/v1/tasks/{task.Id}").ShouldHaveStatusAsync(HttpStatusCode.NoContent);

        await client.DeleteAsync($"/api/v1/tasks/{task.Id}").ShouldBeProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Delete_another_users_task_returns_404_and_keeps_it()
    {
        var task = await api.CreateTaskAsync((await api.CreateUserAsync()).Id, "Keep");

        await api.ClientFor(await api.CreateUserAsync()).DeleteAsync($"/api/v1/tasks/{task.Id}").ShouldBeProblemAsync(HttpStatusCode.NotFound);

        (await api.FindAsync<TaskItem>(t => t.Id == task.Id)).ShouldHaveSingleItem();
    }

    [Fact]
    public async Task Delete_another_users_task_as_admin_returns_204()
    {
        var task = await api.CreateTaskAsync((await api.CreateUserAsync()).Id, "Moderated");

        await api.ClientFor(await api.CreateUserAsync(AppRoles.Admin)).DeleteAsync($"/api/v1/tasks/{task.Id}").ShouldHaveStatusAsync(HttpStatusCode.NoContent);

        (await api.FindAsync<TaskItem>(t => t.Id == task.Id)).ShouldBeEmpty();
    }

    [Fact]
    public async Task Delete_own_task_as_guest_returns_403_and_keeps_it()
    {
        var guest = await api.CreateUserAsync(AppRoles.Guest);
        var task = await api.CreateTaskAsync(guest.Id, "Guest's");

        await api.ClientFor(guest).DeleteAsync($"/api/v1/tasks/{task.Id}").ShouldBeProblemAsync(HttpStatusCode.Forbidden);

        (await api.FindAsync<TaskItem>(t => t.Id == task.Id)).ShouldHaveSingleItem();
    }

    [Fact]
    public async Task Delete_with_invalid_id_returns_400_problem()
    {
        await api.ClientFor(await api.CreateUserAsync()).DeleteAsync("/api/v1/tasks/xyz").ShouldBeProblemAsync(HttpStatusCode.BadRequest, "id");
    }

    [Fact]
    public async Task Delete_anonymously_returns_401_problem()
    {
        await api.CreateAnonymousClient().DeleteAsync($"/api/v1/tasks/{Guid.NewGuid()}").ShouldBeProblemAsync(HttpStatusCode.Unauthorized);
    }
}
