using System.Net;
using SliceApi.Features.Users;
using SliceApi.Tests.Support;

namespace SliceApi.Tests.Features.Users;

public sealed class GetCurrentUserTests(AppFixture api) : IClassFixture<AppFixture>
{
    [Fact]
    public async Task Get_me_returns_the_caller()
    {
        var user = await api.CreateUserAsync();

        var me = await api.ClientFor(user).GetAsync("/api/v1/users/me").ShouldReturnAsync<UserResponse>();

        me.Id.ShouldBe(user.Id);
        me.Email.ShouldBe(user.Email);
        me.Role.ShouldBe("user");
    }

    [Fact]
    public async Task Get_me_anonymously_returns_401_problem_with_bearer_challenge()
    {
        var response = await api.CreateAnonymousClient().GetAsync("/api/v1/users/me");

        await response.ShouldBeProblemAsync(HttpStatusCode.Unauthorized);
        response.Header("WWW-Authenticate").ShouldHaveSingleItem().ShouldStartWith("Bearer");
    }

    [Fact]
    public async Task The_access_token_of_a_deleted_account_is_refused()
    {
        var user = await api.CreateUserAsync();
        await api.WithDocumentsAsync(session =>
        {
            session.Delete<User>(user.Id);
            return session.SaveChangesAsync();
        });

        await api.ClientFor(user).GetAsync("/api/v1/users/me").ShouldBeProblemAsync(HttpStatusCode.Unauthorized);
    }
}
