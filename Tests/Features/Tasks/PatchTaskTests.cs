using System.Net;
using System.Net.Http.Headers;
using System.Text;
using SliceApi.Features.Tasks;
using SliceApi.Tests.Support;

namespace SliceApi.Tests.Features.Tasks;

public sealed class PatchTaskTests(AppFixture api) : IClassFixture<AppFixture>
{
    private static HttpRequestMessage Patch(Guid id, string body, string contentType = "application/merge-patch+json") =>
        new(HttpMethod.Patch, $"/api/v1/tasks/{id}") { Content = new StringContent(body, Encoding.UTF8, contentType) };

    private async Task<(TestUser User, TaskItem Task)> SeedAsync()
    {
        var user = await api.CreateUserAsync();
        var task = await api.CreateTaskAsync(user.Id, "Original", TaskItemStatus.InProgress,
            dueAt: new DateTimeOffset(2026, 12, 1, 17, 0, 0, TimeSpan.Zero), description: "Keep me");
        return (user, task);
    }

    [Fact]
    public async Task Absent_members_stay_and_present_ones_replace()
    {
        var (user, task) = await SeedAsync();

        var patched = await api.ClientFor(user).SendAsync(Patch(task.Id, """{"title":"  Renamed  "}""")).ShouldReturnAsync<TaskResponse>();

        patched.Title.ShouldBe("Renamed");
        patched.Description.ShouldBe("Keep me");
        patched.DueAt.ShouldBe(new DateTimeOffset(2026, 12, 1, 17, 0, 0, TimeSpan.Zero));
        patched.Status.ShouldBe(TaskItemStatus.InProgress);
        (await api.FindAsync<TaskItem>(t => t.Id == task.Id)).Single().Title.ShouldBe("Renamed");
    }

    [Fact]
    public async Task Null_clears_optional_fields()
    {
        var (user, task) = await SeedAsync();

        var patched = await api.ClientFor(user).SendAsync(Patch(task.Id, """{"description":null,"dueAt":null}""")).ShouldReturnAsync<TaskResponse>();

        patched.Description.ShouldBeNull();
        patched.DueAt.ShouldBeNull();
        patched.Title.ShouldBe("Original");
        var stored = (await api.FindAsync<TaskItem>(t => t.Id == task.Id)).Single();
        stored.Description.ShouldBeNull();
        stored.DueAt.ShouldBeNull();
    }

    [Theory]
    [InlineData("application/json")]
    [InlineData("text/plain")]
    public async Task Other_content_types_get_415(string contentType)
    {
        var (user, task) = await SeedAsync();

        await api.ClientFor(user).SendAsync(Patch(task.Id, """{"title":"x"}""", contentType)).ShouldBeProblemAsync(HttpStatusCode.UnsupportedMediaType);

        (await api.FindAsync<TaskItem>(t => t.Id == task.Id)).Single().Title.ShouldBe("Original");
    }

    [Theory]
    [InlineData("""{"title":null}""", "title")]
    [InlineData("""{"title":""}""", "title")]
    [InlineData("""{"title":"TITLE201"}""", "title")]
    [InlineData("""{"status":null}""", "status")]
    [InlineData("""{"status":"archived"}""", "status")]
    [InlineData("""{"dueAt":"tomorrow"}""", "dueAt")]
    [InlineData("""{"owner":"me"}""", "owner")]
    [InlineData("""{"assigneeId":"not-a-guid"}""", "assigneeId")]
    [InlineData("""[1]""", "")]
    public async Task An_invalid_patch_is_a_validation_problem_and_changes_nothing(string body, string errorKey)
    {
        var (user, task) = await SeedAsync();

        await api.ClientFor(user).SendAsync(Patch(task.Id, body.Replace("TITLE201", new string('t', 201), StringComparison.Ordinal)))
            .ShouldBeProblemAsync(HttpStatusCode.BadRequest, errorKey);

        var stored = (await api.FindAsync<TaskItem>(t => t.Id == task.Id)).Single();
        stored.Title.ShouldBe("Original");
        stored.Description.ShouldBe("Keep me");
    }

    [Fact]
    public async Task A_stale_if_match_gives_412()
    {
        var (user, task) = await SeedAsync();
        var stale = (await api.ClientFor(user).GetAsync($"/api/v1/tasks/{task.Id}")).ETag();
        await api.ClientFor(user).PutAsJsonAsync($"/api/v1/tasks/{task.Id}/status", new { status = "done" }).ShouldHaveStatusAsync(HttpStatusCode.OK);
        var request = Patch(task.Id, """{"title":"x"}""");
        request.Headers.IfMatch.Add(new EntityTagHeaderValue(stale!.Tag.ToString()));

        await api.ClientFor(user).SendAsync(request).ShouldBeProblemAsync(HttpStatusCode.PreconditionFailed);
    }

    [Fact]
    public async Task The_assignee_cannot_patch()
    {
        var owner = await api.CreateUserAsync();
        var assignee = await api.CreateUserAsync();
        var task = await api.CreateTaskAsync(owner.Id, "Shared", assigneeId: assignee.Id);

        await api.ClientFor(assignee).SendAsync(Patch(task.Id, """{"title":"Mine now"}""")).ShouldBeProblemAsync(HttpStatusCode.Forbidden);
    }
}
