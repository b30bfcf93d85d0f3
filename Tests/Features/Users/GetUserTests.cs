using System.Net;
using SliceApi.Features.Users;
using SliceApi.Infrastructure.Security;
using SliceApi.Tests.Support;

namespace SliceApi.Tests.Features.Users;

public sealed class GetUserTests(AppFixture api) : IClassFixture<AppFixture>
{
    [Fact]
    public async Task Get_own_account_by_id_returns_it()
    {
        var user = await api.CreateUserAsync();

        (await api.ClientFor(user).GetAsync($"/api/v1/users/{user.Id}").ShouldReturnAsync<UserResponse>()).Id.ShouldBe(user.Id);
    }

    [Fact]
    public async Task Get_another_account_returns_404_problem()
    {
        var other = await api.CreateUserAsync();

        await api.ClientFor(await api.CreateUserAsync()).GetAsync($"/api/v1/users/{other.Id}").ShouldBeProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Get_another_account_as_admin_returns_it()
    {
        var other = await api.CreateUserAsync(AppRoles.Guest);

        var found = await api.ClientFor(await api.CreateUserAsync(AppRoles.Admin)).GetAsync($"/api/v1/users/{other.Id}").ShouldReturnAsync<UserResponse>();

        found.Email.ShouldBe(other.Email);
        found.Role.ShouldBe("guest");
    }

    [Fact]
    public async Task Get_user_with_invalid_id_returns_400_problem()
    {
        await api.ClientFor(await api.CreateUserAsync()).GetAsync("/api/v1/users/12").ShouldBeProblemAsync(HttpStatusCode.BadRequest, "id");
    }

    [Fact]
    public async Task Get_user_anonymously_returns_401_problem()
    {
        await api.CreateAnonymousClient().GetAsync($"/api/v1/users/{Guid.NewGuid()}").ShouldBeProblemAsync(HttpStatusCode.Unauthorized);
    }
}
