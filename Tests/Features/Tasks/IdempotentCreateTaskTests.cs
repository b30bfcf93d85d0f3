using System.Net;
using System.Text;
using SliceApi.Features.Tasks;
using SliceApi.Tests.Support;

namespace SliceApi.Tests.Features.Tasks;

/// <summary>POST /api/v1/tasks with Idempotency-Key (draft-ietf-httpapi-idempotency-key-header), on PostgreSQL.</summary>
public sealed class IdempotentCreateTaskTests(AppFixture api) : IClassFixture<AppFixture>
{
    [Fact]
    public async Task A_retry_with_the_same_key_and_body_replays_the_first_response_and_creates_nothing()
    {
        var user = await api.CreateUserAsync();
        var client = api.ClientFor(user);
        var key = Guid.NewGuid().ToString();

        var first = await PostAsync(client, key, """{"title":"Pay rent","dueAt":"2026-12-01T09:00:00Z"}""");
        var retry = await PostAsync(client, key, """{ "dueAt": "2026-12-01T10:00:00+01:00", "title": "Pay rent" }""");

        first.StatusCode().ShouldBe(HttpStatusCode.Created);
        retry.StatusCode().ShouldBe(HttpStatusCode.Created);
        (await retry.ReadAsTextAsync()).ShouldBe(await first.ReadAsTextAsync());
        retry.Location().ShouldBe(first.Location());
        retry.ETag().ShouldBe(first.ETag());
        retry.MediaType().ShouldBe("application/json");
        retry.Header(IdempotencyKeys.ReplayedHeader).ShouldBe(["true"]);
        first.HasHeader(IdempotencyKeys.ReplayedHeader).ShouldBeFalse();
        (await CountTasksAsync(user, "Pay rent")).ShouldBe(1);
    }

    [Fact]
    public async Task The_same_key_with_another_body_is_422_and_creates_nothing()
    {
        var user = await api.CreateUserAsync();
        var client = api.ClientFor(user);
        var key = Guid.NewGuid().ToString();
        await PostAsync(client, key, """{"title":"First"}""");

        await PostAsync(client, key, """{"title":"Second"}""").ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity);

        (await CountTasksAsync(user, "Second")).ShouldBe(0);
        (await CountTasksAsync(user, "First")).ShouldBe(1);
    }

    [Fact]
    public async Task Keys_belong_to_their_user()
    {
        var alice = await api.CreateUserAsync();
        var bob = await api.CreateUserAsync();
        const string key = "shared-key-1";

        var forAlice = await PostAsync(api.ClientFor(alice), key, """{"title":"Same title"}""");
        var forBob = await PostAsync(api.ClientFor(bob), key, """{"title":"Same title"}""");

        forAlice.StatusCode().ShouldBe(HttpStatusCode.Created);
        forBob.StatusCode().ShouldBe(HttpStatusCode.Created);
        forBob.Location().ShouldNotBe(forAlice.Location());
        forBob.HasHeader(IdempotencyKeys.ReplayedHeader).ShouldBeFalse();
    }

    [Fact]
    public async Task A_retry_through_another_instance_is_replayed()
    {
        var user = await api.CreateUserAsync();
        var key = Guid.NewGuid().ToString();
        await using var otherInstance = await api.StartHostAsync();
        var other = new ScenarioClient(otherInstance, s => s.WithBearerToken(user.AccessToken));

        var first = await PostAsync(api.ClientFor(user), key, """{"title":"Across instances"}""");
        var retry = await PostAsync(other, key, """{"title":"Across instances"}""");

        retry.StatusCode().ShouldBe(HttpStatusCode.Created);
        retry.Location().ShouldBe(first.Location());
        retry.Header(IdempotencyKeys.ReplayedHeader).ShouldBe(["true"]);
        (await CountTasksAsync(user, "Across instances")).ShouldBe(1);
    }

    [Fact]
    public async Task Concurrent_requests_with_one_key_create_one_task_and_all_get_its_response()
    {
        var user = await api.CreateUserAsync();
        var client = api.ClientFor(user);
        for (var round = 0; round < 5; round++)
        {
            var key = Guid.NewGuid().ToString();

            var responses = await Race.AtOnceAsync(8, _ => PostAsync(client, key, $$"""{"title":"Raced {{round}}"}"""));

            responses.ShouldAllBe(r => r.StatusCode() == HttpStatusCode.Created);
            responses.Select(r => r.Location()).Distinct().Count().ShouldBe(1);
            responses.Count(r => r.HasHeader(IdempotencyKeys.ReplayedHeader)).ShouldBe(7);
            (await CountTasksAsync(user, $"Raced {round}")).ShouldBe(1);
        }
    }

    [Fact]
    public async Task After_24_hours_a_key_may_be_used_for_a_new_request()
    {
        var user = await api.CreateUserAsync();
        var client = api.ClientFor(user);
        var key = Guid.NewGuid().ToString();
        var first = await PostAsync(client, key, """{"title":"Old"}""");
        var id = IdempotencyRecord.IdFor(user.Id, key);
        var stored = (await api.FindDocumentsAsync<IdempotencyRecord>(r => r.Id == id)).ShouldHaveSingleItem();
        (stored.ExpiresAt - stored.CreatedAt).ShouldBe(TimeSpan.FromHours(24));
        await api.WithDocumentsAsync(session =>
        {
            session.Store(new IdempotencyRecord
            {
                Id = stored.Id, UserId = stored.UserId, Fingerprint = stored.Fingerprint, StatusCode = stored.StatusCode, ContentType = stored.ContentType,
                Location = stored.Location, ETag = stored.ETag, Body = stored.Body, CreatedAt = stored.CreatedAt,
                ExpiresAt = DateTimeOffset.UtcNow.AddTicks(-(DateTimeOffset.UtcNow.Ticks % 10)).AddSeconds(-1),
            });
            return session.SaveChangesAsync();
        });

        var later = await PostAsync(client, key, """{"title":"New"}""");

        later.StatusCode().ShouldBe(HttpStatusCode.Created);
        later.Location().ShouldNotBe(first.Location());
        later.HasHeader(IdempotencyKeys.ReplayedHeader).ShouldBeFalse();
    }

    [Fact]
    public async Task A_rejected_request_keeps_nothing_so_the_fixed_request_may_reuse_the_key()
    {
        var user = await api.CreateUserAsync();
        var client = api.ClientFor(user);
        var key = Guid.NewGuid().ToString();

        await PostAsync(client, key, """{"title":""}""").ShouldBeProblemAsync(HttpStatusCode.BadRequest, "title");
        var fixedRequest = await PostAsync(client, key, """{"title":"Fixed"}""");

        fixedRequest.StatusCode().ShouldBe(HttpStatusCode.Created);
        (await api.FindDocumentsAsync<IdempotencyRecord>(r => r.UserId == user.Id)).Count.ShouldBe(1);
    }

    [Fact]
    public async Task Without_a_key_every_post_creates_a_task()
    {
        var user = await api.CreateUserAsync();
        var client = api.ClientFor(user);

        await PostAsync(client, null, """{"title":"Twice"}""");
        await PostAsync(client, null, """{"title":"Twice"}""");

        (await CountTasksAsync(user, "Twice")).ShouldBe(2);
    }

    [Theory]
    [InlineData("\"\"")]
    [InlineData("\"has \\\" quote\"")]
    [InlineData("tab\there")]
    [InlineData("ключ")]
    public async Task A_malformed_key_is_a_400_naming_the_header(string key)
    {
        var client = api.ClientFor(await api.CreateUserAsync());

        await PostAsync(client, key, """{"title":"x"}""").ShouldBeProblemAsync(HttpStatusCode.BadRequest, IdempotencyKeys.Header);
    }

    [Fact]
    public async Task A_key_over_255_characters_is_a_400_naming_the_header()
    {
        var client = api.ClientFor(await api.CreateUserAsync());

        await PostAsync(client, new string('k', 256), """{"title":"x"}""").ShouldBeProblemAsync(HttpStatusCode.BadRequest, IdempotencyKeys.Header);
    }

    [Fact]
    public async Task A_quoted_structured_field_key_and_the_bare_key_are_the_same_key()
    {
        var user = await api.CreateUserAsync();
        var client = api.ClientFor(user);

        var first = await PostAsync(client, "\"abc-123\"", """{"title":"Quoted"}""");
        var retry = await PostAsync(client, "abc-123", """{"title":"Quoted"}""");

        retry.Location().ShouldBe(first.Location());
    }

    private static Task<IScenarioResult> PostAsync(ScenarioClient client, string? key, string json)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/tasks") { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        if (key is not null)
        {
            request.Headers.TryAddWithoutValidation(IdempotencyKeys.Header, key);
        }

        return client.SendAsync(request);
    }

    private async Task<int> CountTasksAsync(TestUser owner, string title) =>
        (await api.FindDocumentsAsync<TaskItem>(t => t.OwnerId == owner.Id && t.Title == title)).Count;
}
