using System.Net;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using SliceApi.Tests.Support;

namespace SliceApi.Tests.Infrastructure;

public sealed class ErrorHandlingTests(AppFixture api) : IClassFixture<AppFixture>
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Unknown_route_returns_404_problem_for_anyone(bool authenticated)
    {
        var client = authenticated ? api.ClientFor(await api.CreateUserAsync()) : api.CreateAnonymousClient();

        await client.GetAsync("/api/v1/no-such-thing").ShouldBeProblemAsync(HttpStatusCode.NotFound);
    }

    [Theory]
    [InlineData("POST", "/api/v1/tasks", """{"title":"a","title":"b"}""", "application/json", "title")]
    [InlineData("POST", "/api/v1/tasks", """{"title":"a","dueAt":null,"dueAt":"2027-01-01T00:00:00Z"}""", "application/json", "dueAt")]
    [InlineData("PATCH", "/api/v1/tasks/{id}", """{"status":"done","status":"todo"}""", "application/merge-patch+json", "status")]
    public async Task A_body_that_names_a_member_twice_is_a_400_problem_naming_it(string method, string url, string body, string contentType, string member)
    {
        var user = await api.CreateUserAsync();
        var task = await api.CreateTaskAsync(user.Id, "Unchanged");

        var problem = await api.ClientFor(user).SendRawAsync(new HttpMethod(method), url.Replace("{id}", task.Id.ToString(), StringComparison.Ordinal), body, contentType)
            .ShouldBeProblemAsync(HttpStatusCode.BadRequest, member);

        problem.GetProperty("errors").GetProperty(member)[0].GetString()!.ShouldContain("more than once");
        (await api.FindAsync<SliceApi.Features.Tasks.TaskItem>(t => t.OwnerId == user.Id)).ShouldHaveSingleItem().Title.ShouldBe("Unchanged");
    }

    [Fact]
    public async Task Wrong_method_returns_405_problem_with_allow_header()
    {
        var response = await api.CreateAnonymousClient().DeleteAsync("/api/v1/users");

        await response.ShouldBeProblemAsync(HttpStatusCode.MethodNotAllowed);
        response.Header("Allow").SelectMany(v => v.Split(',', StringSplitOptions.TrimEntries)).ShouldContain("POST");
    }

    [Fact]
    public async Task Problem_instance_is_the_request_path()
    {
        var problem = await api.CreateAnonymousClient().GetAsync("/api/v1/tasks/abc").ShouldBeProblemAsync(HttpStatusCode.Unauthorized);

        problem.GetProperty("instance").GetString().ShouldBe("/api/v1/tasks/abc");
    }
}

/// <summary>A host whose clock throws, so a handler fails with an unexpected exception.</summary>
public sealed class FaultyFixture : AppFixture
{
    public const string Secret = "secret internal failure text";

    protected override void ConfigureHost(IWebHostBuilder builder)
    {
        builder.ConfigureTestServices(services => services.AddSingleton<TimeProvider>(new ThrowingClock()));
    }

    private sealed class ThrowingClock : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => throw new InvalidOperationException(Secret);
    }
}

public sealed class UnexpectedErrorTests(FaultyFixture api) : IClassFixture<FaultyFixture>
{
    [Fact]
    public async Task Unexpected_exception_returns_500_problem_without_exception_details_outside_development()
    {
        // The app's clock throws, so the user is stored and the token minted outside the app.
        var user = new SliceApi.Features.Users.User { Id = Guid.NewGuid(), Email = $"u{Guid.NewGuid():N}@example.com", DisplayName = "U", Role = "user", CreatedAt = DateTimeOffset.UtcNow.AddTicks(-(DateTimeOffset.UtcNow.Ticks % 10)) };
        await api.WithDocumentsAsync(session =>
        {
            session.Insert(user);
            return session.SaveChangesAsync();
        });
        var token = TestTokens.Create(api.SigningKey, user.Id, "user", DateTime.UtcNow.AddMinutes(-1), DateTime.UtcNow.AddMinutes(5));
        var client = api.CreateBearerClient(token);

        var response = await client.PostAsJsonAsync("/api/v1/tasks", new { title = "boom" });

        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.InternalServerError);
        var body = problem.GetRawText();
        body.ShouldNotContain(FaultyFixture.Secret);
        body.ShouldNotContain("InvalidOperationException");
        body.ShouldNotContain(" at ");
    }
}
