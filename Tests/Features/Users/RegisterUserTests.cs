using System.Net;
using Microsoft.AspNetCore.Identity;
using SliceApi.Features.Users;
using SliceApi.Tests.Support;

namespace SliceApi.Tests.Features.Users;

public sealed class RegisterUserTests(AppFixture api) : IClassFixture<AppFixture>
{
    private const string Url = "/api/v1/users";

    [Fact]
    public async Task One_email_registered_many_times_at_once_creates_one_account_and_answers_the_rest_409()
    {
        for (var round = 0; round < 5; round++)
        {
            var email = $"race-{Guid.NewGuid():N}@example.com";

            var responses = await Race.AtOnceAsync(8, i =>
                api.CreateAnonymousClient().PostAsJsonAsync(Url, new { email, password = "a long enough passphrase", displayName = $"Racer {i}" }));

            var statuses = responses.Select(r => r.StatusCode()).ToArray();
            statuses.Count(s => s == HttpStatusCode.Created).ShouldBe(1, $"round {round}: {string.Join(", ", statuses)}");
            statuses.Count(s => s == HttpStatusCode.Conflict).ShouldBe(7);
            foreach (var conflict in responses.Where(r => r.StatusCode() == HttpStatusCode.Conflict))
            {
                await conflict.ShouldBeProblemAsync(HttpStatusCode.Conflict);
            }

            (await api.FindAsync<User>(u => u.Email == email)).ShouldHaveSingleItem();
        }
    }

    [Fact]
    public async Task Register_returns_201_with_location_and_stores_a_hashed_password()
    {
        var email = $"Ada.{Guid.NewGuid():N}@Example.com";

        var response = await api.CreateAnonymousClient().PostAsJsonAsync(Url, new { email = $"  {email} ", password = "a long enough passphrase", displayName = " Ada " });

        var user = await Task.FromResult(response).ShouldReturnAsync<UserResponse>(HttpStatusCode.Created);
        response.Location()!.ToString().ShouldBe($"/api/v1/users/{user.Id}");
        user.Email.ShouldBe(email.ToLowerInvariant());
        user.DisplayName.ShouldBe("Ada");
        user.Role.ShouldBe("user");
        (await response.ReadAsTextAsync()).ShouldNotContain("password", Case.Insensitive);

        var stored = (await api.FindDocumentsAsync<User>(u => u.Id == user.Id)).ShouldHaveSingleItem();
        stored.Email.ShouldBe(email.ToLowerInvariant());
        stored.PasswordHash.ShouldNotContain("a long enough passphrase");
        User.PasswordHasher.VerifyHashedPassword(stored, stored.PasswordHash, "a long enough passphrase").ShouldBe(PasswordVerificationResult.Success);
    }

    [Fact]
    public async Task Registered_user_can_read_their_account_at_the_location()
    {
        var email = $"grace-{Guid.NewGuid():N}@example.com";
        var client = api.CreateAnonymousClient();
        var response = await client.PostAsJsonAsync(Url, new { email, password = "a long enough passphrase", displayName = "Grace" });
        await response.ShouldHaveStatusAsync(HttpStatusCode.Created);
        var login = await client.PostAsJsonAsync("/api/v1/auth/login", new { email, password = "a long enough passphrase" }).ShouldReturnAsync<SliceApi.Features.Auth.TokenResponse>();
        client = api.CreateBearerClient(login.AccessToken);

        var self = await client.GetAsync(response.Location()!).ShouldReturnAsync<UserResponse>();

        self.Email.ShouldBe(email);
    }

    [Fact]
    public async Task Register_with_a_taken_email_in_any_case_returns_409_and_stores_nothing()
    {
        var existing = await api.CreateUserAsync();

        await api.CreateAnonymousClient().PostAsJsonAsync(Url, new { email = existing.Email.ToUpperInvariant(), password = "another long password", displayName = "Copy" })
            .ShouldBeProblemAsync(HttpStatusCode.Conflict);

        (await api.FindDocumentsAsync<User>(u => u.Email == existing.Email)).ShouldHaveSingleItem().DisplayName.ShouldNotBe("Copy");
    }

    [Theory]
    [InlineData("", "a long enough passphrase", "Ada", "email")]
    [InlineData("not-an-email", "a long enough passphrase", "Ada", "email")]
    [InlineData("ada@", "a long enough passphrase", "Ada", "email")]
    [InlineData("ada@localhost", "a long enough passphrase", "Ada", "email")]
    [InlineData("Ada <ada@example.com>", "a long enough passphrase", "Ada", "email")]
    [InlineData("LONG_EMAIL", "a long enough passphrase", "Ada", "email")]
    [InlineData("ada@example.com", "short pass1", "Ada", "password")]
    [InlineData("ada@example.com", "LONG_PASSWORD", "Ada", "password")]
    [InlineData("ada@example.com", " ADA@example.com ", "Ada", "password")]
    [InlineData("ada@example.com", "a long enough passphrase", "", "displayName")]
    [InlineData("ada@example.com", "a long enough passphrase", "   ", "displayName")]
    [InlineData("ada@example.com", "a long enough passphrase", "LONG_NAME", "displayName")]
    public async Task Register_with_invalid_field_returns_validation_problem_and_stores_nothing(string email, string password, string displayName, string errorKey)
    {
        email = email.Replace("LONG_EMAIL", new string('a', 64) + "@" + new string('b', 186) + ".com", StringComparison.Ordinal); // 255 characters
        password = password.Replace("LONG_PASSWORD", new string('p', 129), StringComparison.Ordinal);
        displayName = displayName.Replace("LONG_NAME", new string('n', 101), StringComparison.Ordinal);
        var before = (await api.FindDocumentsAsync<User>(_ => true)).Count;

        await api.CreateAnonymousClient().PostAsJsonAsync(Url, new { email, password, displayName }).ShouldBeProblemAsync(HttpStatusCode.BadRequest, errorKey);

        ((await api.FindDocumentsAsync<User>(_ => true)).Count).ShouldBe(before);
    }

    [Fact]
    public async Task Register_accepts_passwords_of_12_and_128_characters()
    {
        var client = api.CreateAnonymousClient();

        await client.PostAsJsonAsync(Url, new { email = $"a{Guid.NewGuid():N}@example.com", password = new string('x', 12), displayName = "A" }).ShouldHaveStatusAsync(HttpStatusCode.Created);
        await client.PostAsJsonAsync(Url, new { email = $"b{Guid.NewGuid():N}@example.com", password = new string('x', 128), displayName = "B" }).ShouldHaveStatusAsync(HttpStatusCode.Created);
    }

    [Theory]
    [InlineData("{\"email\":")]
    [InlineData("{\"email\":1,\"password\":\"a long enough passphrase\",\"displayName\":\"x\"}")]
    [InlineData("")]
    public async Task Register_with_malformed_body_returns_400_problem(string body)
    {
        await api.CreateAnonymousClient().SendRawAsync(HttpMethod.Post, Url, body).ShouldBeProblemAsync(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Register_with_form_content_type_returns_415_problem()
    {
        await api.CreateAnonymousClient().SendRawAsync(HttpMethod.Post, Url, "email=a", "application/x-www-form-urlencoded")
            .ShouldBeProblemAsync(HttpStatusCode.UnsupportedMediaType);
    }
}
