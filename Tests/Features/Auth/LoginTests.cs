using System.Net;
using Microsoft.AspNetCore.Identity;
using SliceApi.Features.Auth;
using SliceApi.Features.Users;
using SliceApi.Infrastructure.Security;
using SliceApi.Tests.Support;

namespace SliceApi.Tests.Features.Auth;

public sealed class LoginTests(AppFixture api) : IClassFixture<AppFixture>
{
    private const string Url = "/api/v1/auth/login";

    [Fact]
    public async Task Login_returns_a_bearer_access_token_with_the_users_claims()
    {
        var user = await api.CreateUserAsync(AppRoles.Guest);

        var response = await api.CreateAnonymousClient().PostAsJsonAsync(Url, new { email = $" {user.Email.ToUpperInvariant()} ", password = user.Password });

        var login = await Task.FromResult(response).ShouldReturnAsync<TokenResponse>();
        login.TokenType.ShouldBe("Bearer");
        login.ExpiresIn.ShouldBe(15 * 60);
        response.CacheControl()!.NoStore.ShouldBeTrue();
        var token = TestTokens.Read(login.AccessToken);
        token.Subject.ShouldBe(user.Id.ToString());
        token.GetClaim("email").Value.ShouldBe(user.Email);
        token.GetClaim("role").Value.ShouldBe("guest");
        token.Issuer.ShouldBe("sliceapi");
        token.Audiences.ShouldBe(["sliceapi"]);
        (token.ValidTo - token.IssuedAt).ShouldBe(TimeSpan.FromMinutes(15));
        token.Alg.ShouldBe("HS256");
    }

    [Fact]
    public async Task A_hash_made_with_the_old_100000_iterations_is_verified_and_replaced_with_210000_at_login()
    {
        var user = await api.CreateUserAsync();
        var legacy = new PasswordHasher<User>().HashPassword(new User { Email = user.Email, DisplayName = "x", Role = AppRoles.User }, user.Password);
        Iterations(legacy).ShouldBe(100_000); // ASP.NET Core's default
        await api.WithDocumentsAsync(async session =>
        {
            var stored = await session.LoadAsync<User>(user.Id);
            stored!.PasswordHash = legacy;
            session.Update(stored);
            await session.SaveChangesAsync();
        });

        await api.CreateAnonymousClient().PostAsJsonAsync(Url, new { email = user.Email, password = user.Password }).ShouldHaveStatusAsync(HttpStatusCode.OK);

        var rehashed = (await api.FindAsync<User>(u => u.Id == user.Id)).Single().PasswordHash;
        Iterations(rehashed).ShouldBe(210_000);
        User.PasswordHasher.VerifyHashedPassword(null!, rehashed, user.Password).ShouldBe(PasswordVerificationResult.Success);
        await api.CreateAnonymousClient().PostAsJsonAsync(Url, new { email = user.Email, password = user.Password }).ShouldHaveStatusAsync(HttpStatusCode.OK);
        (await api.FindAsync<User>(u => u.Id == user.Id)).Single().PasswordHash.ShouldBe(rehashed, "a current hash is kept");
    }

    // Identity's V3 format: 0x01, PRF (uint32, big-endian), iteration count (uint32, big-endian), salt length, salt, subkey.
    private static int Iterations(string hash) => (int)System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(Convert.FromBase64String(hash).AsSpan(5, 4));

    [Fact]
    public async Task The_issued_token_authenticates_later_requests()
    {
        var user = await api.CreateUserAsync();
        var client = api.CreateAnonymousClient();
        var login = await client.PostAsJsonAsync(Url, new { email = user.Email, password = user.Password }).ShouldReturnAsync<TokenResponse>();
        client = api.CreateBearerClient(login.AccessToken);

        await client.GetAsync("/api/v1/users/me").ShouldHaveStatusAsync(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Unknown_email_and_wrong_password_give_the_same_401_problem()
    {
        var user = await api.CreateUserAsync();
        var client = api.CreateAnonymousClient();

        var wrongPassword = await client.PostAsJsonAsync(Url, new { email = user.Email, password = "not the password" });
        var unknownEmail = await client.PostAsJsonAsync(Url, new { email = $"nobody-{Guid.NewGuid():N}@example.com", password = "not the password" });

        var a = await wrongPassword.ShouldBeProblemAsync(HttpStatusCode.Unauthorized);
        var b = await unknownEmail.ShouldBeProblemAsync(HttpStatusCode.Unauthorized);
        a.GetProperty("title").GetString().ShouldBe(b.GetProperty("title").GetString());
        a.GetProperty("detail").GetString().ShouldBe(b.GetProperty("detail").GetString());
        wrongPassword.WwwAuthenticate().ShouldBe(unknownEmail.WwwAuthenticate());
        wrongPassword.WwwAuthenticate().ShouldNotBeEmpty();
    }

    [Theory]
    [InlineData("", "x", "email")]
    [InlineData("a@example.com", "", "password")]
    [InlineData("LONG_EMAIL", "x", "email")]
    [InlineData("a@example.com", "LONG_PASSWORD", "password")]
    public async Task Login_with_missing_or_oversized_field_returns_validation_problem(string email, string password, string errorKey)
    {
        email = email.Replace("LONG_EMAIL", new string('e', 250) + "@x.io", StringComparison.Ordinal);
        password = password.Replace("LONG_PASSWORD", new string('p', 129), StringComparison.Ordinal);
        await api.CreateAnonymousClient().PostAsJsonAsync(Url, new { email, password }).ShouldBeProblemAsync(HttpStatusCode.BadRequest, errorKey);
    }

    [Fact]
    public async Task Login_with_malformed_json_returns_400_problem()
    {
        await api.CreateAnonymousClient().SendRawAsync(HttpMethod.Post, Url, "{'email':").ShouldBeProblemAsync(HttpStatusCode.BadRequest);
    }
}
