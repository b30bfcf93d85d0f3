using System.Net;
using SliceApi.Features.Auth;
using SliceApi.Tests.Support;

namespace SliceApi.Tests.Features.Users;

public sealed class ChangePasswordTests(AppFixture api) : IClassFixture<AppFixture>
{
    private const string Url = "/api/v1/users/me/password";

    [Fact]
    public async Task Change_password_takes_effect_and_ends_earlier_sessions()
    {
        var user = await api.CreateUserAsync();
        var anonymous = api.CreateAnonymousClient();
        var before = await anonymous.PostAsJsonAsync("/api/v1/auth/login", new { email = user.Email, password = user.Password }).ShouldReturnAsync<TokenResponse>();

        await api.ClientFor(user).PostAsJsonAsync(Url, new { currentPassword = user.Password, newPassword = "a brand new passphrase" })
            .ShouldHaveStatusAsync(HttpStatusCode.NoContent);

        await anonymous.PostAsJsonAsync("/api/v1/auth/login", new { email = user.Email, password = user.Password }).ShouldHaveStatusAsync(HttpStatusCode.Unauthorized);
        await anonymous.PostAsJsonAsync("/api/v1/auth/login", new { email = user.Email, password = "a brand new passphrase" }).ShouldHaveStatusAsync(HttpStatusCode.OK);
        await anonymous.PostAsJsonAsync("/api/v1/auth/refresh", new { refreshToken = before.RefreshToken }).ShouldBeProblemAsync(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task A_wrong_current_password_is_a_validation_problem_and_changes_nothing()
    {
        var user = await api.CreateUserAsync();

        await api.ClientFor(user).PostAsJsonAsync(Url, new { currentPassword = "not my password", newPassword = "a brand new passphrase" })
            .ShouldBeProblemAsync(HttpStatusCode.BadRequest, "currentPassword");

        await api.CreateAnonymousClient().PostAsJsonAsync("/api/v1/auth/login", new { email = user.Email, password = user.Password }).ShouldHaveStatusAsync(HttpStatusCode.OK);
    }

    [Theory]
    [InlineData("short one", "newPassword")]
    [InlineData("SAME", "newPassword")]
    [InlineData("EMAIL", "newPassword")]
    public async Task An_unfit_new_password_is_a_validation_problem(string newPassword, string errorKey)
    {
        var user = await api.CreateUserAsync();
        newPassword = newPassword == "SAME" ? user.Password : newPassword == "EMAIL" ? user.Email : newPassword;

        await api.ClientFor(user).PostAsJsonAsync(Url, new { currentPassword = user.Password, newPassword }).ShouldBeProblemAsync(HttpStatusCode.BadRequest, errorKey);
    }

    [Fact]
    public async Task Change_password_anonymously_returns_401()
    {
        await api.CreateAnonymousClient().PostAsJsonAsync(Url, new { currentPassword = "x", newPassword = "a brand new passphrase" }).ShouldBeProblemAsync(HttpStatusCode.Unauthorized);
    }
}
