using System.Net;
using SliceApi.Features.Tasks;
using SliceApi.Infrastructure.Security;
using SliceApi.Tests.Support;

namespace SliceApi.Tests.Features.Tasks;

/// <summary>Setting assigneeId through CreateTask and UpdateTask, and what the assignee may then do.</summary>
public sealed class TaskAssignmentTests(AppFixture api) : IClassFixture<AppFixture>
{
    [Fact]
    public async Task The_owner_assigns_at_creation_and_the_assignee_sees_the_task()
    {
        var owner = await api.CreateUserAsync();
        var assignee = await api.CreateUserAsync();

        var created = await api.ClientFor(owner).PostAsJsonAsync("/api/v1/tasks", new { title = "Review", assigneeId = assignee.Id })
            .ShouldReturnAsync<TaskResponse>(HttpStatusCode.Created);

        created.AssigneeId.ShouldBe(assignee.Id);
        (await api.FindAsync<TaskItem>(t => t.Id == created.Id)).Single().AssigneeId.ShouldBe(assignee.Id);
        (await api.ClientFor(assignee).GetAsync($"/api/v1/tasks/{created.Id}").ShouldReturnAsync<TaskResponse>()).Id.ShouldBe(created.Id);
    }

    [Fact]
    public async Task An_admin_reassigns_with_put()
    {
        var owner = await api.CreateUserAsync();
        var task = await api.CreateTaskAsync(owner.Id, "Reassign me");
        var assignee = await api.CreateUserAsync(AppRoles.Guest);

        var updated = await api.ClientFor(await api.CreateUserAsync(AppRoles.Admin)).PutAsJsonAsync($"/api/v1/tasks/{task.Id}", new { title = "Reassign me", assigneeId = assignee.Id })
            .ShouldReturnAsync<TaskResponse>();

        updated.AssigneeId.ShouldBe(assignee.Id);
    }

    [Fact]
    public async Task Assigning_an_unknown_user_is_a_validation_problem_and_stores_nothing()
    {
        var owner = await api.CreateUserAsync();

        await api.ClientFor(owner).PostAsJsonAsync("/api/v1/tasks", new { title = "Nobody's", assigneeId = Guid.NewGuid() })
            .ShouldBeProblemAsync(HttpStatusCode.BadRequest, "assigneeId");

        (await api.FindAsync<TaskItem>(t => t.OwnerId == owner.Id)).ShouldBeEmpty();
    }

    [Fact]
    public async Task Deleting_the_assignees_account_unassigns_the_task()
    {
        var owner = await api.CreateUserAsync();
        var assignee = await api.CreateUserAsync();
        var task = await api.CreateTaskAsync(owner.Id, "Orphaned assignment", assigneeId: assignee.Id);

        await api.ClientFor(assignee).DeleteAsync($"/api/v1/users/{assignee.Id}").ShouldHaveStatusAsync(HttpStatusCode.NoContent);

        (await api.FindAsync<TaskItem>(t => t.Id == task.Id)).Single().AssigneeId.ShouldBeNull();
    }
}
