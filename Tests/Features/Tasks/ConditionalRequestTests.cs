using System.Net;
using SliceApi.Features.Tasks;
using SliceApi.Tests.Support;

namespace SliceApi.Tests.Features.Tasks;

/// <summary>ETags on GetTask, and If-None-Match / If-Match on the task slices (RFC 9110 sections 8.8.3 and 13).</summary>
public sealed class ConditionalRequestTests(AppFixture api) : IClassFixture<AppFixture>
{
    [Fact]
    public async Task Get_returns_a_strong_etag_and_private_revalidation()
    {
        var user = await api.CreateUserAsync();
        var task = await api.CreateTaskAsync(user.Id, "Tagged");

        var response = await api.ClientFor(user).GetAsync($"/api/v1/tasks/{task.Id}").ShouldHaveStatusAsync(HttpStatusCode.OK);

        response.ETag()!.IsWeak.ShouldBeFalse();
        response.ETag()!.Tag.ToString().ShouldMatch("^\"[0-9]+\"$");
        response.CacheControl()!.Private.ShouldBeTrue();
        response.CacheControl()!.NoCache.ShouldBeTrue();
    }

    [Fact]
    public async Task If_none_match_with_the_current_etag_gives_304_without_a_body()
    {
        var user = await api.CreateUserAsync();
        var task = await api.CreateTaskAsync(user.Id, "Unchanged");
        var client = api.ClientFor(user);
        var etag = (await client.GetAsync($"/api/v1/tasks/{task.Id}")).ETag()!;

        var response = await client.Scenario(s =>
        {
            s.Get.Url($"/api/v1/tasks/{task.Id}");
            s.WithRequestHeader("If-None-Match", etag.ToString());
            s.StatusCodeShouldBe(HttpStatusCode.NotModified);
        });

        (await response.ReadAsTextAsync()).ShouldBeEmpty();
        response.ETag().ShouldBe(etag);
    }

    [Fact]
    public async Task A_change_gives_a_new_etag_and_if_none_match_with_the_old_one_gives_200()
    {
        var user = await api.CreateUserAsync();
        var task = await api.CreateTaskAsync(user.Id, "Before");
        var client = api.ClientFor(user);
        var old = (await client.GetAsync($"/api/v1/tasks/{task.Id}")).ETag()!;
        var put = await client.PutAsJsonAsync($"/api/v1/tasks/{task.Id}", new { title = "After" }).ShouldHaveStatusAsync(HttpStatusCode.OK);
        put.ETag().ShouldNotBe(old);

        var response = await client.Scenario(s =>
        {
            s.Get.Url($"/api/v1/tasks/{task.Id}");
            s.WithRequestHeader("If-None-Match", old.ToString());
        }).ShouldReturnAsync<TaskResponse>();

        response.Title.ShouldBe("After");
    }

    [Fact]
    public async Task Put_with_a_stale_if_match_gives_412_and_changes_nothing()
    {
        var user = await api.CreateUserAsync();
        var task = await api.CreateTaskAsync(user.Id, "Original");
        var client = api.ClientFor(user);
        var stale = (await client.GetAsync($"/api/v1/tasks/{task.Id}")).ETag()!;
        await client.PutAsJsonAsync($"/api/v1/tasks/{task.Id}", new { title = "Someone else's edit" }).ShouldHaveStatusAsync(HttpStatusCode.OK);

        await client.Scenario(s =>
        {
            s.Put.Json(new { title = "My edit" }).ToUrl($"/api/v1/tasks/{task.Id}");
            s.WithRequestHeader("If-Match", stale.ToString());
            s.StatusCodeShouldBe(HttpStatusCode.PreconditionFailed);
        }).ShouldBeProblemAsync(HttpStatusCode.PreconditionFailed);

        (await api.FindAsync<TaskItem>(t => t.Id == task.Id)).Single().Title.ShouldBe("Someone else's edit");
    }

    [Fact]
    public async Task Put_with_the_current_if_match_succeeds()
    {
        var user = await api.CreateUserAsync();
        var task = await api.CreateTaskAsync(user.Id, "Original");
        var client = api.ClientFor(user);
        var current = (await client.GetAsync($"/api/v1/tasks/{task.Id}")).ETag()!;

        var replaced = await client.Scenario(s =>
        {
            s.Put.Json(new { title = "Mine" }).ToUrl($"/api/v1/tasks/{task.Id}");
            s.WithRequestHeader("If-Match", current.ToString());
        }).ShouldReturnAsync<TaskResponse>();

        replaced.Title.ShouldBe("Mine");
    }

    [Fact]
    public async Task Two_writers_from_the_same_version_cannot_both_succeed()
    {
        var user = await api.CreateUserAsync();
        var task = await api.CreateTaskAsync(user.Id, "Contended");
        var etag = (await api.ClientFor(user).GetAsync($"/api/v1/tasks/{task.Id}")).ETag()!;

        var responses = await Task.WhenAll(Enumerable.Range(0, 6).Select(i => api.ClientFor(user).Scenario(s =>
        {
            s.Put.Json(new { title = $"Writer {i}" }).ToUrl($"/api/v1/tasks/{task.Id}");
            s.WithRequestHeader("If-Match", etag.ToString());
            s.IgnoreStatusCode();
        })));

        responses.Count(r => r.StatusCode() == HttpStatusCode.OK).ShouldBe(1);
        responses.Count(r => r.StatusCode() == HttpStatusCode.PreconditionFailed).ShouldBe(5);
    }

    [Fact]
    public async Task Delete_with_a_stale_if_match_gives_412_and_keeps_the_task()
    {
        var user = await api.CreateUserAsync();
        var task = await api.CreateTaskAsync(user.Id, "Keep me");
        var client = api.ClientFor(user);
        var stale = (await client.GetAsync($"/api/v1/tasks/{task.Id}")).ETag();
        await client.PutAsJsonAsync($"/api/v1/tasks/{task.Id}/status", new { status = "done" }).ShouldHaveStatusAsync(HttpStatusCode.OK);

        await client.Scenario(s =>
        {
            s.Delete.Url($"/api/v1/tasks/{task.Id}");
            s.WithRequestHeader("If-Match", stale!.ToString());
            s.StatusCodeShouldBe(HttpStatusCode.PreconditionFailed);
        }).ShouldBeProblemAsync(HttpStatusCode.PreconditionFailed);

        (await api.FindAsync<TaskItem>(t => t.Id == task.Id)).ShouldHaveSingleItem();
    }

    [Fact]
    public async Task A_weak_etag_never_satisfies_if_match()
    {
        var user = await api.CreateUserAsync();
        var task = await api.CreateTaskAsync(user.Id, "Strong only");
        var client = api.ClientFor(user);
        var etag = (await client.GetAsync($"/api/v1/tasks/{task.Id}")).ETag()!;

        await client.Scenario(s =>
        {
            s.Put.Json(new { status = "done" }).ToUrl($"/api/v1/tasks/{task.Id}/status");
            s.WithRequestHeader("If-Match", $"W/{etag.Tag}");
            s.StatusCodeShouldBe(HttpStatusCode.PreconditionFailed);
        }).ShouldBeProblemAsync(HttpStatusCode.PreconditionFailed);
    }
}
