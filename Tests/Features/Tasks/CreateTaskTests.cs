using System.Net;
using SliceApi.Features.Tasks;
using SliceApi.Infrastructure.Security;
using SliceApi.Tests.Support;

namespace SliceApi.Tests.Features.Tasks;

public sealed class CreateTaskTests(AppFixture api) : IClassFixture<AppFixture>
{
    private const string Url = "/api/v1/tasks";

    [Fact]
    public async Task Create_task_returns_201_with_location_and_stores_the_task()
    {
        var user = await api.CreateUserAsync();
        var client = api.ClientFor(user);

        var response = await client.PostAsJsonAsync(Url, new { title = "  Write the README  ", description = "Two commands.", dueAt = "2026-12-01T18:30:00+01:00", status = "in_progress" });

        var created = await Task.FromResult(response).ShouldReturnAsync<TaskResponse>(HttpStatusCode.Created);
        response.Location()!.ToString().ShouldBe($"/api/v1/tasks/{created.Id}");
        created.Title.ShouldBe("Write the README");
        created.Description.ShouldBe("Two commands.");
        created.Status.ShouldBe(TaskItemStatus.InProgress);
        created.DueAt.ShouldBe(new DateTimeOffset(2026, 12, 1, 17, 30, 0, TimeSpan.Zero));
        created.OwnerId.ShouldBe(user.Id);
        created.UpdatedAt.ShouldBe(created.CreatedAt);

        var stored = (await api.FindAsync<TaskItem>(t => t.Id == created.Id)).ShouldHaveSingleItem();
        stored.Title.ShouldBe("Write the README");
        stored.OwnerId.ShouldBe(user.Id);
        stored.Status.ShouldBe(TaskItemStatus.InProgress);
        stored.DueAt!.Value.Offset.ShouldBe(TimeSpan.Zero);
        stored.DueAt.ShouldBe(created.DueAt);
        stored.CreatedAt.ShouldBe(created.CreatedAt);

        var fetched = await client.GetAsync(response.Location()!).ShouldReturnAsync<TaskResponse>();
        fetched.ShouldBe(created);
    }

    [Fact]
    public async Task Create_task_without_optional_fields_defaults_status_to_todo()
    {
        var client = api.ClientFor(await api.CreateUserAsync());

        var created = await client.PostAsJsonAsync(Url, new { title = "Minimal" }).ShouldReturnAsync<TaskResponse>(HttpStatusCode.Created);

        created.Status.ShouldBe(TaskItemStatus.Todo);
        created.Description.ShouldBeNull();
        created.DueAt.ShouldBeNull();
    }

    [Fact]
    public async Task Create_task_accepts_a_title_of_200_characters_after_trimming()
    {
        var client = api.ClientFor(await api.CreateUserAsync());

        var created = await client.PostAsJsonAsync(Url, new { title = "  " + new string('a', 200) + "  " }).ShouldReturnAsync<TaskResponse>(HttpStatusCode.Created);

        created.Title.Length.ShouldBe(200);
    }

    [Theory]
    [InlineData("""{"title":""}""", "title")]
    [InlineData("""{"title":"   "}""", "title")]
    [InlineData("""{}""", "title")]
    [InlineData("""{"title":null}""", "title")]
    [InlineData("""{"title":"x","description":"DESC4001"}""", "description")]
    [InlineData("""{"title":"TITLE201"}""", "title")]
    [InlineData("""{"title":"x","status":"blocked"}""", "status")]
    [InlineData("""{"title":"x","status":1}""", "status")]
    [InlineData("""{"title":"x","dueAt":"2026-12-01"}""", "dueAt")]
    [InlineData("""{"title":"x","dueAt":"2026-12-01T10:00:00"}""", "dueAt")]
    [InlineData("""{"title":"x","dueAt":"tomorrow"}""", "dueAt")]
    [InlineData("""{"title":42}""", "title")]
    public async Task Create_task_with_invalid_field_returns_validation_problem_and_stores_nothing(string body, string errorKey)
    {
        var user = await api.CreateUserAsync();
        var client = api.ClientFor(user);
        body = body.Replace("DESC4001", new string('d', 4001), StringComparison.Ordinal)
                   .Replace("TITLE201", new string('t', 201), StringComparison.Ordinal);

        await client.SendRawAsync(HttpMethod.Post, Url, body).ShouldBeProblemAsync(HttpStatusCode.BadRequest, errorKey);

        (await api.FindAsync<TaskItem>(t => t.OwnerId == user.Id)).ShouldBeEmpty();
    }

    [Theory]
    [InlineData("""{"title":""")]
    [InlineData("""not json""")]
    [InlineData("""[1,2]""")]
    [InlineData("null")]
    [InlineData("")]
    public async Task Create_task_with_malformed_or_missing_body_returns_400_problem_and_stores_nothing(string body)
    {
        var user = await api.CreateUserAsync();
        var client = api.ClientFor(user);

        await client.SendRawAsync(HttpMethod.Post, Url, body).ShouldBeProblemAsync(HttpStatusCode.BadRequest);

        (await api.FindAsync<TaskItem>(t => t.OwnerId == user.Id)).ShouldBeEmpty();
    }

    [Fact]
    public async Task Create_task_with_wrong_content_type_returns_415_problem()
    {
        var client = api.ClientFor(await api.CreateUserAsync());

        await client.SendRawAsync(HttpMethod.Post, Url, """{"title":"x"}""", "text/plain").ShouldBeProblemAsync(HttpStatusCode.UnsupportedMediaType);
    }

    [Fact]
    public async Task Create_task_anonymously_returns_401_problem_with_challenge()
    {
        var response = await api.CreateAnonymousClient().PostAsJsonAsync(Url, new { title = "x" });

        await response.ShouldBeProblemAsync(HttpStatusCode.Unauthorized);
        response.WwwAuthenticate().ShouldStartWith("Bearer");
    }

    [Fact]
    public async Task Create_task_as_guest_returns_403_problem_and_stores_nothing()
    {
        var guest = await api.CreateUserAsync(AppRoles.Guest);

        await api.ClientFor(guest).PostAsJsonAsync(Url, new { title = "x" }).ShouldBeProblemAsync(HttpStatusCode.Forbidden);

        (await api.FindAsync<TaskItem>(t => t.OwnerId == guest.Id)).ShouldBeEmpty();
    }

    [Fact]
    public async Task Create_task_as_admin_makes_the_admin_the_owner()
    {
        var admin = await api.CreateUserAsync(AppRoles.Admin);

        var created = await api.ClientFor(admin).PostAsJsonAsync(Url, new { title = "Admin's" }).ShouldReturnAsync<TaskResponse>(HttpStatusCode.Created);

        created.OwnerId.ShouldBe(admin.Id);
    }
}
