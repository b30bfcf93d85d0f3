using System.Net;
using SliceApi.Features.Auth;
using SliceApi.Tests.Support;

namespace SliceApi.Tests.Features.Auth;

public sealed class LockoutTests(AppFixture api) : IClassFixture<AppFixture>
{
    private const string Url = "/api/v1/auth/login";

    [Fact]
    public async Task Five_failures_lock_the_account_even_against_the_right_password()
    {
        var user = await api.CreateUserAsync();
        var client = api.CreateAnonymousClient();
        for (var i = 0; i < 5; i++)
        {
            await client.PostAsJsonAsync(Url, new { email = user.Email, password = "wrong password" }).ShouldHaveStatusAsync(HttpStatusCode.Unauthorized);
        }

        var locked = await client.PostAsJsonAsync(Url, new { email = user.Email, password = user.Password });

        await locked.ShouldBeProblemAsync(HttpStatusCode.TooManyRequests);
        int.Parse(locked.Header("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture).ShouldBeInRange(890, 900);
    }

    [Fact]
    public async Task A_burst_of_wrong_passwords_sent_at_once_gets_exactly_five_answered_and_the_rest_locked_out()
    {
        for (var round = 0; round < 3; round++)
        {
            var user = await api.CreateUserAsync();

            var responses = await Race.AtOnceAsync(12, _ =>
                api.CreateAnonymousClient().PostAsJsonAsync(Url, new { email = user.Email, password = "wrong password" }));

            var statuses = responses.Select(r => r.StatusCode()).ToArray();
            statuses.Count(s => s == HttpStatusCode.Unauthorized).ShouldBe(Lockout.MaxFailures, $"round {round}: {string.Join(", ", statuses)}");
            statuses.Count(s => s == HttpStatusCode.TooManyRequests).ShouldBe(12 - Lockout.MaxFailures);
            (await api.FindAsync<LoginFailure>(f => f.Email == user.Email)).Count.ShouldBe(Lockout.MaxFailures);
            await api.CreateAnonymousClient().PostAsJsonAsync(Url, new { email = user.Email, password = user.Password })
                .ShouldBeProblemAsync(HttpStatusCode.TooManyRequests);
        }
    }

    [Fact]
    public async Task A_locked_account_and_an_unknown_email_answer_alike()
    {
        var user = await api.CreateUserAsync();
        var unknown = $"nobody-{Guid.NewGuid():N}@example.com";
        var client = api.CreateAnonymousClient();
        for (var i = 0; i < 5; i++)
        {
            await client.PostAsJsonAsync(Url, new { email = user.Email, password = "wrong password" });
            await client.PostAsJsonAsync(Url, new { email = unknown, password = "wrong password" });
        }

        var known = await client.PostAsJsonAsync(Url, new { email = user.Email, password = "wrong password" }).ShouldBeProblemAsync(HttpStatusCode.TooManyRequests);
        var other = await client.PostAsJsonAsync(Url, new { email = unknown, password = "wrong password" }).ShouldBeProblemAsync(HttpStatusCode.TooManyRequests);

        known.GetProperty("title").GetString().ShouldBe(other.GetProperty("title").GetString());
        known.GetProperty("detail").GetString().ShouldBe(other.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task A_successful_login_clears_earlier_failures()
    {
        var user = await api.CreateUserAsync();
        var client = api.CreateAnonymousClient();
        for (var i = 0; i < 4; i++)
        {
            await client.PostAsJsonAsync(Url, new { email = user.Email, password = "wrong password" });
        }

        await client.PostAsJsonAsync(Url, new { email = user.Email, password = user.Password }).ShouldHaveStatusAsync(HttpStatusCode.OK);
        for (var i = 0; i < 4; i++)
        {
            await client.PostAsJsonAsync(Url, new { email = user.Email, password = "wrong password" }).ShouldHaveStatusAsync(HttpStatusCode.Unauthorized);
        }

        await client.PostAsJsonAsync(Url, new { email = user.Email, password = user.Password }).ShouldHaveStatusAsync(HttpStatusCode.OK);
    }

    [Fact]
    public async Task The_lock_ends_fifteen_minutes_after_the_last_failure()
    {
        var user = await api.CreateUserAsync();
        var client = api.CreateAnonymousClient();
        for (var i = 0; i < 5; i++)
        {
            await client.PostAsJsonAsync(Url, new { email = user.Email, password = "wrong password" });
        }

        var failures = await api.FindDocumentsAsync<LoginFailure>(f => f.Email == user.Email);
        failures.Count.ShouldBe(5);
        await api.WithDocumentsAsync(session =>
        {
            foreach (var failure in failures)
            {
                session.Update(new LoginFailure { Id = failure.Id, Email = failure.Email, FailedAt = failure.FailedAt.AddMinutes(-15).AddSeconds(-1) });
            }

            return session.SaveChangesAsync();
        });

        await client.PostAsJsonAsync(Url, new { email = user.Email, password = user.Password }).ShouldHaveStatusAsync(HttpStatusCode.OK);
    }
}
