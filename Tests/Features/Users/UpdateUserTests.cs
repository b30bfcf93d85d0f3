using System.Net;
using SliceApi.Features.Users;
using SliceApi.Infrastructure.Security;
using SliceApi.Tests.Support;

namespace SliceApi.Tests.Features.Users;

public sealed class UpdateUserTests(AppFixture api) : IClassFixture<AppFixture>
{
    [Fact]
    public async Task A_user_changes_their_own_display_name()
    {
        var user = await api.CreateUserAsync();

        var updated = await api.ClientFor(user).PatchAsJsonAsync($"/api/v1/users/{user.Id}", new { displayName = " Grace " }).ShouldReturnAsync<UserResponse>();

        updated.DisplayName.ShouldBe("Grace");
        (await api.FindDocumentsAsync<User>(u => u.Id == user.Id)).Single().DisplayName.ShouldBe("Grace");
    }

    [Theory]
    [InlineData("""{"role":"admin"}""")]
    [InlineData("""{"isActive":false}""")]
    public async Task A_user_cannot_change_their_own_role_or_status(string body)
    {
        var user = await api.CreateUserAsync();

        await api.ClientFor(user).SendRawAsync(HttpMethod.Patch, $"/api/v1/users/{user.Id}", body).ShouldBeProblemAsync(HttpStatusCode.Forbidden);

        var stored = (await api.FindDocumentsAsync<User>(u => u.Id == user.Id)).Single();
        stored.Role.ShouldBe("user");
        stored.IsActive.ShouldBeTrue();
    }

    [Fact]
    public async Task A_user_cannot_change_someone_else()
    {
        var other = await api.CreateUserAsync();

        await api.ClientFor(await api.CreateUserAsync()).PatchAsJsonAsync($"/api/v1/users/{other.Id}", new { displayName = "Hijacked" })
            .ShouldBeProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Deactivating_an_account_stops_its_existing_access_token_and_its_logins()
    {
        var user = await api.CreateUserAsync();
        var client = api.ClientFor(user);
        await client.GetAsync("/api/v1/users/me").ShouldHaveStatusAsync(HttpStatusCode.OK);

        await api.ClientFor(await api.CreateUserAsync(AppRoles.Admin)).PatchAsJsonAsync($"/api/v1/users/{user.Id}", new { isActive = false })
            .ShouldHaveStatusAsync(HttpStatusCode.OK);

        await client.GetAsync("/api/v1/users/me").ShouldBeProblemAsync(HttpStatusCode.Unauthorized);
        await api.CreateAnonymousClient().PostAsJsonAsync("/api/v1/auth/login", new { email = user.Email, password = user.Password })
            .ShouldBeProblemAsync(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Demoting_a_user_to_guest_takes_write_rights_from_their_existing_token()
    {
        var user = await api.CreateUserAsync();
        var client = api.ClientFor(user);
        await client.PostAsJsonAsync("/api/v1/tasks", new { title = "Before" }).ShouldHaveStatusAsync(HttpStatusCode.Created);

        var updated = await api.ClientFor(await api.CreateUserAsync(AppRoles.Admin)).PatchAsJsonAsync($"/api/v1/users/{user.Id}", new { role = "guest" })
            .ShouldReturnAsync<UserResponse>();

        updated.Role.ShouldBe("guest");
        await client.PostAsJsonAsync("/api/v1/tasks", new { title = "After" }).ShouldBeProblemAsync(HttpStatusCode.Forbidden);
    }

    [Theory]
    [InlineData("""{"role":"owner"}""", "role")]
    [InlineData("""{"displayName":"  "}""", "displayName")]
    [InlineData("""{"isActive":"no"}""", "isActive")]
    public async Task Invalid_changes_are_validation_problems(string body, string errorKey)
    {
        var target = await api.CreateUserAsync();

        await api.ClientFor(await api.CreateUserAsync(AppRoles.Admin)).SendRawAsync(HttpMethod.Patch, $"/api/v1/users/{target.Id}", body)
            .ShouldBeProblemAsync(HttpStatusCode.BadRequest, errorKey);
    }
}
