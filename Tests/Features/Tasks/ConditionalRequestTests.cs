using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using SliceApi.Features.Tasks;
using SliceApi.Tests.Support;

namespace SliceApi.Tests.Features.Tasks;

/// <summary>ETags on GetTask, and If-None-Match / If-Match on the task slices (RFC 9110 sections 8.8.3 and 13).</summary>
public sealed class ConditionalRequestTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    [Fact]
    public async Task Get_returns_a_strong_etag_and_private_revalidation()
    {
        var user = await api.CreateUserAsync();
        var task = await api.CreateTaskAsync(user.Id, "Tagged");

        var response = await api.CreateClient(user).GetAsync($"/api/v1/tasks/{task.Id}").ShouldHaveStatusAsync(HttpStatusCode.OK);

        response.Headers.ETag!.IsWeak.ShouldBeFalse();
        response.Headers.ETag.Tag.ShouldMatch("^\"[0-9]+\"$");
        response.Headers.CacheControl!.Private.ShouldBeTrue();
        response.Headers.CacheControl.NoCache.ShouldBeTrue();
    }

    [Fact]
    public async Task If_none_match_with_the_current_etag_gives_304_without_a_body()
    {
        var user = await api.CreateUserAsync();
        var task = await api.CreateTaskAsync(user.Id, "Unchanged");
        var client = api.CreateClient(user);
        var etag = (await client.GetAsync($"/api/v1/tasks/{task.Id}")).Headers.ETag!;

        var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/tasks/{task.Id}") { Headers = { IfNoneMatch = { etag } } };
        var response = await client.SendAsync(request);

        response.StatusCode.ShouldBe(HttpStatusCode.NotModified);
        (await response.Content.ReadAsByteArrayAsync()).ShouldBeEmpty();
        response.Headers.ETag.ShouldBe(etag);
    }

    [Fact]
    public async Task A_change_gives_a_new_etag_and_if_none_match_with_the_old_one_gives_200()
    {
        var user = await api.CreateUserAsync();
        var task = await api.CreateTaskAsync(user.Id, "Before");
        var client = api.CreateClient(user);
        var old = (await client.GetAsync($"/api/v1/tasks/{task.Id}")).Headers.ETag!;
        var put = await client.PutAsJsonAsync($"/api/v1/tasks/{task.Id}", new { title = "After" }).ShouldHaveStatusAsync(HttpStatusCode.OK);
        put.Headers.ETag.ShouldNotBe(old);

        var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/tasks/{task.Id}") { Headers = { IfNoneMatch = { old } } };
        var response = await client.SendAsync(request).ShouldReturnAsync<TaskResponse>();

        response.Title.ShouldBe("After");
    }

    [Fact]
    public async Task Put_with_a_stale_if_match_gives_412_and_changes_nothing()
    {
        var user = await api.CreateUserAsync();
        var task = await api.CreateTaskAsync(user.Id, "Original");
        var client = api.CreateClient(user);
        var stale = (await client.GetAsync($"/api/v1/tasks/{task.Id}")).Headers.ETag!;
        await client.PutAsJsonAsync($"/api/v1/tasks/{task.Id}", new { title = "Someone else's edit" }).ShouldHaveStatusAsync(HttpStatusCode.OK);

        var request = new HttpRequestMessage(HttpMethod.Put, $"/api/v1/tasks/{task.Id}") { Content = JsonContent.Create(new { title = "My edit" }), Headers = { IfMatch = { stale } } };
        await client.SendAsync(request).ShouldBeProblemAsync(HttpStatusCode.PreconditionFailed);

        (await api.FindAsync<TaskItem>(t => t.Id == task.Id)).Single().Title.ShouldBe("Someone else's edit");
    }

    [Fact]
    public async Task Put_with_the_current_if_match_succeeds()
    {
        var user = await api.CreateUserAsync();
        var task = await api.CreateTaskAsync(user.Id, "Original");
        var client = api.CreateClient(user);
        var current = (await client.GetAsync($"/api/v1/tasks/{task.Id}")).Headers.ETag!;

        var request = new HttpRequestMessage(HttpMethod.Put, $"/api/v1/tasks/{task.Id}") { Content = JsonContent.Create(new { title = "Mine" }), Headers = { IfMatch = { current } } };

        (await client.SendAsync(request).ShouldReturnAsync<TaskResponse>()).Title.ShouldBe("Mine");
    }

    [Fact]
    public async Task Two_writers_from_the_same_version_cannot_both_succeed()
    {
        var user = await api.CreateUserAsync();
        var task = await api.CreateTaskAsync(user.Id, "Contended");
        var etag = (await api.CreateClient(user).GetAsync($"/api/v1/tasks/{task.Id}")).Headers.ETag!;

        var responses = await Task.WhenAll(Enumerable.Range(0, 6).Select(i => api.CreateClient(user).SendAsync(
            new HttpRequestMessage(HttpMethod.Put, $"/api/v1/tasks/{task.Id}") { Content = JsonContent.Create(new { title = $"Writer {i}" }), Headers = { IfMatch = { etag } } })));

        responses.Count(r => r.StatusCode == HttpStatusCode.OK).ShouldBe(1);
        responses.Count(r => r.StatusCode == HttpStatusCode.PreconditionFailed).ShouldBe(5);
    }

    [Fact]
    public async Task Delete_with_a_stale_if_match_gives_412_and_keeps_the_task()
    {
        var user = await api.CreateUserAsync();
        var task = await api.CreateTaskAsync(user.Id, "Keep me");
        var client = api.CreateClient(user);

        var request = new HttpRequestMessage(HttpMethod.Delete, $"/api/v1/tasks/{task.Id}") { Headers = { IfMatch = { new EntityTagHeaderValue("\"1\"") } } };
        await client.SendAsync(request).ShouldBeProblemAsync(HttpStatusCode.PreconditionFailed);

        (await api.FindAsync<TaskItem>(t => t.Id == task.Id)).ShouldHaveSingleItem();
    }

    [Fact]
    public async Task A_weak_etag_never_satisfies_if_match()
    {
        var user = await api.CreateUserAsync();
        var task = await api.CreateTaskAsync(user.Id, "Strong only");
        var client = api.CreateClient(user);
        var etag = (await client.GetAsync($"/api/v1/tasks/{task.Id}")).Headers.ETag!;

        var request = new HttpRequestMessage(HttpMethod.Put, $"/api/v1/tasks/{task.Id}/status")
        {
            Content = JsonContent.Create(new { status = "done" }),
            Headers = { IfMatch = { new EntityTagHeaderValue(etag.Tag, isWeak: true) } },
        };

        await client.SendAsync(request).ShouldBeProblemAsync(HttpStatusCode.PreconditionFailed);
    }
}
