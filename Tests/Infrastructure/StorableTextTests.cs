using System.Net;
using SliceApi.Features.Tasks;
using SliceApi.Features.Users;
using SliceApi.Infrastructure.Json;
using SliceApi.Tests.Support;

namespace SliceApi.Tests.Infrastructure;

/// <summary>
/// U+0000, which PostgreSQL cannot store in text or jsonb, is a 400 naming the field wherever a string arrives:
/// every string member of every body and every query parameter, by the one rule of <see cref="StorableText"/>.
/// </summary>
public sealed class StorableTextTests(AppFixture api) : IClassFixture<AppFixture>
{
    // In these raw literals \u0000 is the JSON escape itself: the server decodes it to U+0000.
    public static TheoryData<string, string, string, string, string> Bodies() => new()
    {
        { "POST", "/api/v1/tasks", "application/json", """{"title":"Pay\u0000rent"}""", "title" },
        { "POST", "/api/v1/tasks", "application/json", """{"title":"Pay rent","description":"\u0000"}""", "description" },
        { "PUT", "/api/v1/tasks/{task}", "application/json", """{"title":"Replaced\u0000"}""", "title" },
        { "PATCH", "/api/v1/tasks/{task}", "application/merge-patch+json", """{"description":"x\u0000y"}""", "description" },
        { "POST", "/api/v1/users", "application/json", """{"email":"nul\u0000@example.com","password":"a long enough passphrase","displayName":"N"}""", "email" },
        { "POST", "/api/v1/users", "application/json", """{"email":"nul@example.com","password":"a long enough passphrase","displayName":"N\u0000"}""", "displayName" },
        { "POST", "/api/v1/users", "application/json", """{"email":"nul@example.com","password":"a long enough\u0000passphrase","displayName":"N"}""", "password" },
        { "POST", "/api/v1/auth/login", "application/json", """{"email":"{email}","password":"correct horse\u0000"}""", "password" },
        { "POST", "/api/v1/auth/login", "application/json", """{"email":"\u0000{email}","password":"correct horse battery staple"}""", "email" },
        { "POST", "/api/v1/auth/refresh", "application/json", """{"refreshToken":"abc\u0000"}""", "refreshToken" },
        { "POST", "/api/v1/api-keys", "application/json", """{"name":"ci\u0000","scopes":["tasks:read"]}""", "name" },
        { "POST", "/api/v1/api-keys", "application/json", """{"name":"ci","scopes":["tasks:read\u0000"]}""", "scopes[0]" },
        { "PATCH", "/api/v1/users/{user}", "application/json", """{"displayName":"Re\u0000named"}""", "displayName" },
        { "POST", "/api/v1/users/me/password", "application/json", """{"currentPassword":"correct horse battery staple","newPassword":"a new\u0000passphrase"}""", "newPassword" },
    };

    [Theory]
    [MemberData(nameof(Bodies))]
    public async Task A_string_member_holding_nul_is_a_400_naming_it_and_nothing_changes(string method, string url, string contentType, string body, string member)
    {
        var user = await api.CreateUserAsync();
        var task = await api.CreateTaskAsync(user.Id, "Unchanged", description: "Kept");
        url = url.Replace("{task}", task.Id.ToString(), StringComparison.Ordinal).Replace("{user}", user.Id.ToString(), StringComparison.Ordinal);
        body = body.Replace("{email}", user.Email, StringComparison.Ordinal);

        var problem = await api.ClientFor(user).SendRawAsync(new HttpMethod(method), url, body, contentType).ShouldBeProblemAsync(HttpStatusCode.BadRequest, member);

        problem.GetProperty("errors").GetProperty(member)[0].GetString().ShouldBe(StorableText.Message);
        var tasks = await api.FindAsync<TaskItem>(t => t.OwnerId == user.Id);
        tasks.ShouldHaveSingleItem().Title.ShouldBe("Unchanged");
        tasks[0].Description.ShouldBe("Kept");
        (await api.FindDocumentsAsync<User>(u => u.Email == "nul@example.com")).ShouldBeEmpty();
        (await api.FindDocumentsAsync<User>(u => u.Id == user.Id)).Single().DisplayName.ShouldBe("Test user");
    }

    [Theory]
    [InlineData("/api/v1/tasks?q=pay%00rent", "q")]
    [InlineData("/api/v1/tasks?cursor=%00", "cursor")]
    [InlineData("/api/v1/tasks?sort=title&q=ok&status=todo%00", "status")]
    [InlineData("/api/v1/api-keys?x%00=1", "x\0")]
    public async Task A_query_parameter_holding_nul_is_a_400_naming_it(string url, string parameter)
    {
        var problem = await api.ClientFor(await api.CreateUserAsync()).GetAsync(url).ShouldBeProblemAsync(HttpStatusCode.BadRequest, parameter);

        problem.GetProperty("errors").GetProperty(parameter)[0].GetString().ShouldBe(StorableText.Message);
    }

    [Fact]
    public async Task A_query_parameter_holding_nul_on_an_admin_list_is_a_400()
    {
        await api.ClientFor(await api.CreateUserAsync("admin")).GetAsync("/api/v1/users?cursor=a%00").ShouldBeProblemAsync(HttpStatusCode.BadRequest, "cursor");
    }

    [Fact]
    public async Task Text_without_nul_is_stored_as_sent()
    {
        var user = await api.CreateUserAsync();

        var created = await api.ClientFor(user).SendRawAsync(HttpMethod.Post, "/api/v1/tasks", """{"title":"Tab\there, \u00e9, \ud83d\ude00 and C:\\u0000"}""")
            .ShouldReturnAsync<TaskResponse>(HttpStatusCode.Created);

        created.Title.ShouldBe("Tab\there, é, 😀 and C:\\u0000");
        (await api.FindAsync<TaskItem>(t => t.Id == created.Id)).Single().Title.ShouldBe(created.Title);
    }
}
