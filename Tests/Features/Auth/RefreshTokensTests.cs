using System.Net;
using SliceApi.Features.Auth;
using SliceApi.Tests.Support;

namespace SliceApi.Tests.Features.Auth;

public sealed class RefreshTokensTests(AppFixture api) : IClassFixture<AppFixture>
{
    private const string Url = "/api/v1/auth/refresh";

    [Fact]
    public async Task Login_returns_a_refresh_token_that_is_stored_only_as_a_hash()
    {
        var user = await api.CreateUserAsync();

        var pair = await LoginAsync(user);

        pair.RefreshToken.Length.ShouldBe(43); // 256 bits, base64url without padding
        pair.RefreshTokenExpiresIn.ShouldBe(14 * 24 * 3600);
        var stored = (await api.FindDocumentsAsync<RefreshToken>(t => t.UserId == user.Id)).ShouldHaveSingleItem();
        stored.TokenHash.ShouldBe(RefreshToken.Hash(pair.RefreshToken));
        stored.TokenHash.ShouldNotContain(pair.RefreshToken);
    }

    [Fact]
    public async Task Refresh_returns_a_new_pair_with_no_store_and_retires_the_old_token()
    {
        var user = await api.CreateUserAsync();
        var first = await LoginAsync(user);

        var response = await api.CreateAnonymousClient().PostAsJsonAsync(Url, new { refreshToken = first.RefreshToken });

        var second = await Task.FromResult(response).ShouldReturnAsync<TokenResponse>();
        response.CacheControl()!.NoStore.ShouldBeTrue();
        second.RefreshToken.ShouldNotBe(first.RefreshToken);
        second.AccessToken.ShouldNotBe(first.AccessToken);
        var client = api.CreateBearerClient(second.AccessToken);
        await client.GetAsync("/api/v1/users/me").ShouldHaveStatusAsync(HttpStatusCode.OK);
        var tokens = await api.FindDocumentsAsync<RefreshToken>(t => t.UserId == user.Id);
        tokens.Count.ShouldBe(2);
        tokens.Select(t => t.FamilyId).Distinct().ShouldHaveSingleItem();
        tokens.Single(t => t.TokenHash == RefreshToken.Hash(first.RefreshToken)).UsedAt.ShouldNotBeNull();
    }

    [Fact]
    public async Task Reusing_a_rotated_token_revokes_the_whole_family()
    {
        var user = await api.CreateUserAsync();
        var first = await LoginAsync(user);
        var client = api.CreateAnonymousClient();
        var second = await client.PostAsJsonAsync(Url, new { refreshToken = first.RefreshToken }).ShouldReturnAsync<TokenResponse>();

        await client.PostAsJsonAsync(Url, new { refreshToken = first.RefreshToken }).ShouldBeProblemAsync(HttpStatusCode.Unauthorized);

        await client.PostAsJsonAsync(Url, new { refreshToken = second.RefreshToken }).ShouldBeProblemAsync(HttpStatusCode.Unauthorized);
        (await api.FindDocumentsAsync<RefreshToken>(t => t.UserId == user.Id)).ShouldAllBe(t => t.RevokedAt != null);
    }

    [Fact]
    public async Task Another_login_of_the_same_user_is_a_separate_family_and_survives()
    {
        var user = await api.CreateUserAsync();
        var stolen = await LoginAsync(user);
        var otherDevice = await LoginAsync(user);
        var client = api.CreateAnonymousClient();
        await client.PostAsJsonAsync(Url, new { refreshToken = stolen.RefreshToken }).ShouldHaveStatusAsync(HttpStatusCode.OK);
        await client.PostAsJsonAsync(Url, new { refreshToken = stolen.RefreshToken }).ShouldHaveStatusAsync(HttpStatusCode.Unauthorized);

        await client.PostAsJsonAsync(Url, new { refreshToken = otherDevice.RefreshToken }).ShouldHaveStatusAsync(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Two_concurrent_refreshes_with_one_token_cannot_both_succeed()
    {
        var user = await api.CreateUserAsync();
        for (var round = 0; round < 5; round++)
        {
            var pair = await LoginAsync(user);

            var responses = await Race.AtOnceAsync(6, _ => api.CreateAnonymousClient().PostAsJsonAsync(Url, new { refreshToken = pair.RefreshToken }));

            // The token is read locked: the first request marks it used and the others then see it used, which is reuse.
            responses.Count(r => r.StatusCode() == HttpStatusCode.OK).ShouldBe(1, $"round {round}");
            responses.Count(r => r.StatusCode() == HttpStatusCode.Unauthorized).ShouldBe(5);
            var hash = RefreshToken.Hash(pair.RefreshToken);
            var family = (await api.FindAsync<RefreshToken>(t => t.TokenHash == hash)).Single().FamilyId;
            var tokens = await api.FindAsync<RefreshToken>(t => t.FamilyId == family);
            tokens.Count.ShouldBe(2, "the presented token and at most one successor");
            tokens.ShouldAllBe(t => t.RevokedAt != null, "reuse revoked the whole family");
        }
    }

    [Fact]
    public async Task An_expired_refresh_token_is_refused()
    {
        var user = await api.CreateUserAsync();
        var pair = await LoginAsync(user);
        await api.WithDocumentsAsync(session =>
        {
            Marten.Patching.PatchingExtensions.Patch<RefreshToken>(session, t => t.UserId == user.Id).Set(t => t.ExpiresAt, DateTimeOffset.UtcNow.AddSeconds(-1));
            return session.SaveChangesAsync();
        });

        await api.CreateAnonymousClient().PostAsJsonAsync(Url, new { refreshToken = pair.RefreshToken }).ShouldBeProblemAsync(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task An_unknown_refresh_token_is_refused()
    {
        await api.CreateAnonymousClient().PostAsJsonAsync(Url, new { refreshToken = "bm90LWEtcmVhbC10b2tlbi1hdC1hbGwtMDEyMzQ1Njc4OQ" })
            .ShouldBeProblemAsync(HttpStatusCode.Unauthorized);
    }

    [Theory]
    [InlineData("""{"refreshToken":""}""", "refreshToken")]
    [InlineData("""{}""", "refreshToken")]
    public async Task A_missing_refresh_token_is_a_validation_problem(string body, string errorKey)
    {
        await api.CreateAnonymousClient().SendRawAsync(HttpMethod.Post, Url, body).ShouldBeProblemAsync(HttpStatusCode.BadRequest, errorKey);
    }

    [Fact]
    public async Task Logout_revokes_the_family_and_answers_204()
    {
        var user = await api.CreateUserAsync();
        var first = await LoginAsync(user);
        var client = api.CreateAnonymousClient();
        var second = await client.PostAsJsonAsync(Url, new { refreshToken = first.RefreshToken }).ShouldReturnAsync<TokenResponse>();

        await client.PostAsJsonAsync("/api/v1/auth/logout", new { refreshToken = second.RefreshToken }).ShouldHaveStatusAsync(HttpStatusCode.NoContent);

        await client.PostAsJsonAsync(Url, new { refreshToken = second.RefreshToken }).ShouldBeProblemAsync(HttpStatusCode.Unauthorized);
        (await api.FindDocumentsAsync<RefreshToken>(t => t.UserId == user.Id)).ShouldAllBe(t => t.RevokedAt != null);
    }

    [Fact]
    public async Task Logout_with_an_unknown_token_also_answers_204()
    {
        await api.CreateAnonymousClient().PostAsJsonAsync("/api/v1/auth/logout", new { refreshToken = "unknown" }).ShouldHaveStatusAsync(HttpStatusCode.NoContent);
    }

    private async Task<TokenResponse> LoginAsync(TestUser user) =>
        await api.CreateAnonymousClient().PostAsJsonAsync("/api/v1/auth/login", new { email = user.Email, password = user.Password })
            .ShouldReturnAsync<TokenResponse>();
}
