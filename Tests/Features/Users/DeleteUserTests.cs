using System.Net;
using SliceApi.Features.ApiKeys;
using SliceApi.Features.Auth;
using SliceApi.Features.Tasks;
using SliceApi.Features.Users;
using SliceApi.Infrastructure.Security;
using SliceApi.Tests.Support;

namespace SliceApi.Tests.Features.Users;

public sealed class DeleteUserTests(AppFixture api) : IClassFixture<AppFixture>
{
    [Fact]
    public async Task Deleting_ones_own_account_deletes_its_tasks_api_keys_and_refresh_tokens_and_stops_its_token()
    {
        var user = await api.CreateUserAsync();
        await api.CreateTaskAsync(user.Id, "Goes with the account");
        var client = api.ClientFor(user);
        var key = await client.PostAsJsonAsync("/api/v1/api-keys", new { name = "goes too", scopes = new List<string> { "tasks:read" } })
            .ShouldReturnAsync<CreateApiKeyResponse>(HttpStatusCode.Created);
        var session = await api.CreateAnonymousClient().PostAsJsonAsync("/api/v1/auth/login", new { email = user.Email, password = user.Password })
            .ShouldReturnAsync<TokenResponse>();
        (await api.FindDocumentsAsync<RefreshToken>(t => t.UserId == user.Id)).ShouldHaveSingleItem();

        await client.DeleteAsync($"/api/v1/users/{user.Id}").ShouldHaveStatusAsync(HttpStatusCode.NoContent);

        (await api.FindDocumentsAsync<User>(u => u.Id == user.Id)).ShouldBeEmpty();
        (await api.FindAsync<TaskItem>(t => t.OwnerId == user.Id)).ShouldBeEmpty();
        (await api.FindDocumentsAsync<ApiKey>(k => k.OwnerId == user.Id)).ShouldBeEmpty();
        (await api.FindDocumentsAsync<RefreshToken>(t => t.UserId == user.Id)).ShouldBeEmpty();
        await api.CreateAnonymousClient().PostAsJsonAsync("/api/v1/auth/refresh", new { refreshToken = session.RefreshToken }).ShouldBeProblemAsync(HttpStatusCode.Unauthorized);
        await client.GetAsync("/api/v1/users/me").ShouldBeProblemAsync(HttpStatusCode.Unauthorized);
        await api.CreateApiKeyClient(key.Key).GetAsync("/api/v1/tasks").ShouldBeProblemAsync(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task A_user_cannot_delete_someone_else()
    {
        var other = await api.CreateUserAsync();

        await api.ClientFor(await api.CreateUserAsync()).DeleteAsync($"/api/v1/users/{other.Id}").ShouldBeProblemAsync(HttpStatusCode.NotFound);

        (await api.FindDocumentsAsync<User>(u => u.Id == other.Id)).ShouldHaveSingleItem();
    }

    [Fact]
    public async Task An_admin_deletes_any_account()
    {
        var other = await api.CreateUserAsync(AppRoles.Guest);

        await api.ClientFor(await api.CreateUserAsync(AppRoles.Admin)).DeleteAsync($"/api/v1/users/{other.Id}").ShouldHaveStatusAsync(HttpStatusCode.NoContent);

        (await api.FindDocumentsAsync<User>(u => u.Id == other.Id)).ShouldBeEmpty();
    }
}
