using System.Net;
using SliceApi.Features.Tasks;
using SliceApi.Infrastructure.Security;
using SliceApi.Tests.Support;

namespace SliceApi.Tests.Features.Tasks;

public sealed class GetTaskTests(AppFixture api) : IClassFixture<AppFixture>
{
    [Fact]
    public async Task Get_own_task_returns_it()
    {
        var owner = api.ClientFor(await api.CreateUserAsync());
        var created = await owner.PostAsJsonAsync("/api/v1/tasks", new { title = "Mine", description = "d" }).ShouldReturnAsync<TaskResponse>(HttpStatusCode.Created);

        var fetched = await owner.GetAsync($"/api/v1/tasks/{created.Id}").ShouldReturnAsync<TaskResponse>();

        fetched.ShouldBe(created);
    }

    [Fact]
    public async Task Get_another_users_task_returns_404_problem()
    {
        var created = await api.ClientFor(await api.CreateUserAsync()).PostAsJsonAsync("/api/v1/tasks", new { title = "Private" }).ShouldReturnAsync<TaskResponse>(HttpStatusCode.Created);
        var other = api.ClientFor(await api.CreateUserAsync());

        var problem = await other.GetAsync($"/api/v1/tasks/{created.Id}").ShouldBeProblemAsync(HttpStatusCode.NotFound);

        problem.GetProperty("detail").GetString()!.ShouldNotContain("Private");
    }

    [Fact]
    public async Task Get_another_users_task_as_admin_returns_it()
    {
        var created = await api.ClientFor(await api.CreateUserAsync()).PostAsJsonAsync("/api/v1/tasks", new { title = "Visible to admins" }).ShouldReturnAsync<TaskResponse>(HttpStatusCode.Created);
        var admin = api.ClientFor(await api.CreateUserAsync(AppRoles.Admin));

        (await admin.GetAsync($"/api/v1/tasks/{created.Id}").ShouldReturnAsync<TaskResponse>()).ShouldBe(created);
    }

    [Fact]
    public async Task Get_task_assigned_to_a_guest_returns_it_to_the_guest()
    {
        var guest = await api.CreateUserAsync(AppRoles.Guest);
        var task = await api.CreateTaskAsync((await api.CreateUserAsync()).Id, "For the guest", assigneeId: guest.Id);

        var fetched = await api.ClientFor(guest).GetAsync($"/api/v1/tasks/{task.Id}").ShouldReturnAsync<TaskResponse>();

        fetched.AssigneeId.ShouldBe(guest.Id);
    }

    [Fact]
    public async Task A_guest_does_not_see_a_task_they_own_but_are_not_assigned()
    {
        var guest = await api.CreateUserAsync(AppRoles.Guest);
        var task = await api.CreateTaskAsync(guest.Id, "Owned, from before a demotion");

        await api.ClientFor(guest).GetAsync($"/api/v1/tasks/{task.Id}").ShouldBeProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Get_unknown_task_returns_404_problem()
    {
        var client = api.ClientFor(await api.CreateUserAsync());

        await client.GetAsync($"/api/v1/tasks/{Guid.NewGuid()}").ShouldBeProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Get_task_with_invalid_id_returns_400_problem_naming_the_id()
    {
        var client = api.ClientFor(await api.CreateUserAsync());

        await client.GetAsync("/api/v1/tasks/not-a-guid").ShouldBeProblemAsync(HttpStatusCode.BadRequest, "id");
    }

    [Fact]
    public async Task Get_task_anonymously_returns_401_problem()
    {
        await api.CreateAnonymousClient().GetAsync($"/api/v1/tasks/{Guid.NewGuid()}").ShouldBeProblemAsync(HttpStatusCode.Unauthorized);
    }
}
