using System.Net;
using SliceApi.Features.ApiKeys;
using SliceApi.Features.Tasks;
using SliceApi.Infrastructure.Security;
using SliceApi.Tests.Support;

namespace SliceApi.Tests.Features.ApiKeys;

public sealed class ApiKeyTests(AppFixture api) : IClassFixture<AppFixture>
{
    private static readonly string[] ReadOnly = ["tasks:read"];

    [Fact]
    public async Task Create_returns_the_secret_once_and_stores_only_its_hash()
    {
        var user = await api.CreateUserAsync();
        var client = api.ClientFor(user);

        var response = await client.PostAsJsonAsync("/api/v1/api-keys", new { name = " CI ", scopes = ReadOnly });

        var created = await Task.FromResult(response).ShouldReturnAsync<CreateApiKeyResponse>(HttpStatusCode.Created);
        created.Key.ShouldStartWith("sk_");
        created.ApiKey.Name.ShouldBe("CI");
        created.ApiKey.Prefix.ShouldBe(created.Key[..12]);
        response.Location()!.ToString().ShouldBe($"/api/v1/api-keys/{created.ApiKey.Id}");
        var stored = (await api.FindDocumentsAsync<ApiKey>(k => k.OwnerId == user.Id)).ShouldHaveSingleItem();
        stored.KeyHash.ShouldBe(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(created.Key))));
        var listed = await client.GetAsync("/api/v1/api-keys").ShouldHaveStatusAsync(HttpStatusCode.OK);
        (await listed.ReadAsTextAsync()).ShouldNotContain(created.Key);
    }

    [Fact]
    public async Task A_read_key_reads_the_owners_tasks_and_is_refused_writes_naming_the_scope()
    {
        var user = await api.CreateUserAsync();
        var task = await api.CreateTaskAsync(user.Id, "Readable by key");
        var keyClient = await KeyClientAsync(user, "tasks:read");

        (await keyClient.GetAsync($"/api/v1/tasks/{task.Id}").ShouldReturnAsync<TaskResponse>()).Id.ShouldBe(task.Id);
        (await keyClient.GetAsync("/api/v1/tasks").ShouldReturnAsync<ListTasksResponse>()).Items.ShouldHaveSingleItem();
        var problem = await keyClient.PostAsJsonAsync("/api/v1/tasks", new { title = "x" }).ShouldBeProblemAsync(HttpStatusCode.Forbidden);

        problem.GetProperty("detail").GetString()!.ShouldContain("tasks:write");
        (await api.FindAsync<TaskItem>(t => t.OwnerId == user.Id)).Count.ShouldBe(1);
    }

    [Fact]
    public async Task A_write_key_creates_tasks_as_its_owner()
    {
        var user = await api.CreateUserAsync();
        var keyClient = await KeyClientAsync(user, "tasks:write");

        var created = await keyClient.PostAsJsonAsync("/api/v1/tasks", new { title = "By key" }).ShouldReturnAsync<TaskResponse>(HttpStatusCode.Created);

        created.OwnerId.ShouldBe(user.Id);
        await keyClient.GetAsync($"/api/v1/tasks/{created.Id}").ShouldBeProblemAsync(HttpStatusCode.Forbidden); // no tasks:read
    }

    [Fact]
    public async Task A_key_is_refused_by_endpoints_that_do_not_take_keys()
    {
        var keyClient = await KeyClientAsync(await api.CreateUserAsync(), "tasks:read", "tasks:write");

        await keyClient.GetAsync("/api/v1/users/me").ShouldBeProblemAsync(HttpStatusCode.Forbidden);
        await keyClient.PostAsJsonAsync("/api/v1/api-keys", new { name = "more", scopes = ReadOnly }).ShouldBeProblemAsync(HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task A_caller_holding_100_working_keys_gets_409_until_one_is_revoked_and_ended_keys_do_not_count()
    {
        var user = await api.CreateUserAsync();
        var owner = api.ClientFor(user);
        var now = TimeProvider.System.GetUtcNow();
        await StoreKeysAsync(user.Id, ApiKey.MaxActivePerUser - 1, now.AddDays(-2), revokedAt: null);
        await StoreKeysAsync(user.Id, 3, now.AddDays(-1), revokedAt: now.AddHours(-1));
        await StoreKeysAsync(user.Id, 2, now.AddDays(-3), revokedAt: null, expiresAt: now.AddMinutes(-1));
        var last = await owner.PostAsJsonAsync("/api/v1/api-keys", new { name = "the 100th", scopes = ReadOnly })
            .ShouldReturnAsync<CreateApiKeyResponse>(HttpStatusCode.Created);

        var refused = await owner.PostAsJsonAsync("/api/v1/api-keys", new { name = "one too many", scopes = ReadOnly })
            .ShouldBeProblemAsync(HttpStatusCode.Conflict);
        refused.GetProperty("detail").GetString()!.ShouldContain("revoke one");
        (await api.FindDocumentsAsync<ApiKey>(k => k.OwnerId == user.Id)).Count.ShouldBe(ApiKey.MaxActivePerUser + 5);

        await owner.DeleteAsync($"/api/v1/api-keys/{last.ApiKey.Id}").ShouldHaveStatusAsync(HttpStatusCode.NoContent);
        await owner.PostAsJsonAsync("/api/v1/api-keys", new { name = "in its place", scopes = ReadOnly }).ShouldHaveStatusAsync(HttpStatusCode.Created);
    }

    [Fact]
    public async Task A_burst_of_creates_never_passes_the_limit_of_working_keys()
    {
        for (var round = 0; round < 3; round++)
        {
            var user = await api.CreateUserAsync();
            var owner = api.ClientFor(user);
            await StoreKeysAsync(user.Id, ApiKey.MaxActivePerUser - 2, TimeProvider.System.GetUtcNow().AddDays(-1), revokedAt: null);

            var statuses = await Race.AtOnceAsync(10, i => owner.PostAsJsonAsync("/api/v1/api-keys", new { name = $"burst {i}", scopes = ReadOnly }).ContinueWith(t => t.Result.StatusCode()));

            statuses.Count(s => s == HttpStatusCode.Created).ShouldBe(2, $"round {round}: {string.Join(", ", statuses)}");
            statuses.Count(s => s == HttpStatusCode.Conflict).ShouldBe(8, $"round {round}: {string.Join(", ", statuses)}");
            (await api.FindDocumentsAsync<ApiKey>(k => k.OwnerId == user.Id)).Count.ShouldBe(ApiKey.MaxActivePerUser);
        }
    }

    [Fact]
    public async Task The_list_holds_at_most_100_keys_those_that_still_work_first()
    {
        var user = await api.CreateUserAsync();
        var now = TimeProvider.System.GetUtcNow();
        await StoreKeysAsync(user.Id, ApiKey.MaxActivePerUser - 2, now.AddDays(-2), revokedAt: null);
        await StoreKeysAsync(user.Id, 5, now.AddDays(-1), revokedAt: now.AddHours(-1));

        var listed = await api.ClientFor(user).GetFromJsonAsync<List<ApiKeyResponse>>("/api/v1/api-keys");

        listed.Count.ShouldBe(ApiKey.MaxActivePerUser);
        listed.Take(ApiKey.MaxActivePerUser - 2).ShouldAllBe(k => k.RevokedAt == null);
        listed.Skip(ApiKey.MaxActivePerUser - 2).ShouldAllBe(k => k.RevokedAt != null);
    }

    [Fact]
    public async Task A_revoked_key_stops_working_at_once()
    {
        var user = await api.CreateUserAsync();
        var owner = api.ClientFor(user);
        var created = await owner.PostAsJsonAsync("/api/v1/api-keys", new { name = "old", scopes = ReadOnly }).ShouldReturnAsync<CreateApiKeyResponse>(HttpStatusCode.Created);
        var keyClient = KeyClient(created.Key);
        await keyClient.GetAsync("/api/v1/tasks").ShouldHaveStatusAsync(HttpStatusCode.OK);

        await owner.DeleteAsync($"/api/v1/api-keys/{created.ApiKey.Id}").ShouldHaveStatusAsync(HttpStatusCode.NoContent);

        var refused = await keyClient.GetAsync("/api/v1/tasks");
        await refused.ShouldBeProblemAsync(HttpStatusCode.Unauthorized);
        refused.WwwAuthenticate().ShouldContain("X-Api-Key");
        (await api.FindDocumentsAsync<ApiKey>(k => k.Id == created.ApiKey.Id)).Single().RevokedAt.ShouldNotBeNull();
    }

    [Fact]
    public async Task Unknown_and_expired_keys_are_refused()
    {
        var user = await api.CreateUserAsync();
        var created = await api.ClientFor(user).PostAsJsonAsync("/api/v1/api-keys", new { name = "short-lived", scopes = ReadOnly, expiresAt = DateTimeOffset.UtcNow.AddSeconds(2) })
            .ShouldReturnAsync<CreateApiKeyResponse>(HttpStatusCode.Created);
        await Task.Delay(TimeSpan.FromSeconds(2.2));

        await KeyClient(created.Key).GetAsync("/api/v1/tasks").ShouldBeProblemAsync(HttpStatusCode.Unauthorized);
        await KeyClient("sk_not-a-real-key").GetAsync("/api/v1/tasks").ShouldBeProblemAsync(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task A_user_cannot_revoke_someone_elses_key()
    {
        var owner = await api.CreateUserAsync();
        var created = await api.ClientFor(owner).PostAsJsonAsync("/api/v1/api-keys", new { name = "mine", scopes = ReadOnly })
            .ShouldReturnAsync<CreateApiKeyResponse>(HttpStatusCode.Created);

        await api.ClientFor(await api.CreateUserAsync()).DeleteAsync($"/api/v1/api-keys/{created.ApiKey.Id}").ShouldBeProblemAsync(HttpStatusCode.NotFound);

        (await api.FindDocumentsAsync<ApiKey>(k => k.Id == created.ApiKey.Id)).Single().RevokedAt.ShouldBeNull();
    }

    [Theory]
    [InlineData("""{"name":"","scopes":["tasks:read"]}""", "name")]
    [InlineData("""{"name":"x","scopes":[]}""", "scopes")]
    [InlineData("""{"name":"x","scopes":["users:admin"]}""", "scopes")]
    [InlineData("""{"name":"x","scopes":["tasks:read"],"expiresAt":"2000-01-01T00:00:00Z"}""", "expiresAt")]
    public async Task Invalid_key_requests_are_validation_problems(string body, string errorKey)
    {
        await api.ClientFor(await api.CreateUserAsync()).SendRawAsync(HttpMethod.Post, "/api/v1/api-keys", body).ShouldBeProblemAsync(HttpStatusCode.BadRequest, errorKey);
    }

    [Fact]
    public async Task A_guests_write_key_cannot_write()
    {
        var guest = await api.CreateUserAsync(AppRoles.Guest);

        await (await KeyClientAsync(guest, "tasks:write")).PostAsJsonAsync("/api/v1/tasks", new { title = "x" }).ShouldBeProblemAsync(HttpStatusCode.Forbidden);
    }

    private async Task<ScenarioClient> KeyClientAsync(TestUser owner, params string[] scopes)
    {
        var created = await api.ClientFor(owner).PostAsJsonAsync("/api/v1/api-keys", new { name = "test", scopes })
            .ShouldReturnAsync<CreateApiKeyResponse>(HttpStatusCode.Created);
        return KeyClient(created.Key);
    }

    private ScenarioClient KeyClient(string key) => api.CreateApiKeyClient(key);

    // Stores `count` keys of `ownerId` directly, created one second apart from `createdFrom` on.
    private Task StoreKeysAsync(Guid ownerId, int count, DateTimeOffset createdFrom, DateTimeOffset? revokedAt, DateTimeOffset? expiresAt = null) =>
        api.WithDocumentsAsync(session =>
        {
            for (var i = 0; i < count; i++)
            {
                session.Insert(new ApiKey
                {
                    Id = Guid.CreateVersion7(),
                    OwnerId = ownerId,
                    Name = $"stored {i}",
                    Scopes = ["tasks:read"],
                    KeyHash = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)),
                    Prefix = "sk_stored000",
                    CreatedAt = createdFrom.AddSeconds(i),
                    ExpiresAt = expiresAt,
                    RevokedAt = revokedAt,
                });
            }

            return session.SaveChangesAsync();
        });
}
