using System.Net;
using System.Text;
using Microsoft.AspNetCore.Hosting;
using SliceApi.Tests.Support;

namespace SliceApi.Tests.Infrastructure;

public sealed class AccessTokenValidationTests(AppFixture api) : IClassFixture<AppFixture>
{
    public static TheoryData<string> RefusedTokens() =>
    [
        "expired", "not yet valid", "wrong issuer", "wrong audience", "wrong key", "alg none", "tampered payload", "garbage",
    ];

    [Theory]
    [MemberData(nameof(RefusedTokens))]
    public async Task A_refused_token_returns_401_problem(string kind)
    {
        var user = await api.CreateUserAsync();
        var now = DateTime.UtcNow;
        var token = kind switch
        {
            "expired" => TestTokens.Create(api.SigningKey, user.Id, "user", now.AddHours(-2), now.AddHours(-1)),
            "not yet valid" => TestTokens.Create(api.SigningKey, user.Id, "user", now.AddHours(1), now.AddHours(2)),
            "wrong issuer" => TestTokens.Create(api.SigningKey, user.Id, "user", now, now.AddMinutes(5), issuer: "someone-else"),
            "wrong audience" => TestTokens.Create(api.SigningKey, user.Id, "user", now, now.AddMinutes(5), audience: "another-api"),
            "wrong key" => TestTokens.Create(new string('k', 48), user.Id, "user", now, now.AddMinutes(5)),
            "alg none" => Unsigned(user.Id),
            "tampered payload" => Tamper(user.AccessToken),
            _ => "not-a-jwt",
        };
        var client = api.CreateBearerClient(token);

        await client.GetAsync("/api/v1/users/me").ShouldBeProblemAsync(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task A_valid_token_minted_with_the_configured_key_is_accepted()
    {
        var user = await api.CreateUserAsync();
        var client = api.CreateBearerClient(TestTokens.Create(api.SigningKey, user.Id, "user", DateTime.UtcNow, DateTime.UtcNow.AddMinutes(5)));

        await client.GetAsync("/api/v1/users/me").ShouldHaveStatusAsync(HttpStatusCode.OK);
    }

    private static string Unsigned(Guid userId)
    {
        var exp = DateTimeOffset.UtcNow.AddMinutes(5).ToUnixTimeSeconds();
        return $"{B64("""{"alg":"none","typ":"JWT"}""")}.{B64($$"""{"sub":"{{userId}}","role":"admin","iss":"sliceapi","aud":"sliceapi","exp":{{exp}}}""")}.";
    }

    // Same header and signature, payload claims the admin role.
    private static string Tamper(string token)
    {
        var parts = token.Split('.');
        var payload = Encoding.UTF8.GetString(Convert.FromBase64String(Pad(parts[1].Replace('-', '+').Replace('_', '/'))));
        return $"{parts[0]}.{B64(payload.Replace("\"role\":\"user\"", "\"role\":\"admin\"", StringComparison.Ordinal))}.{parts[2]}";
    }

    private static string B64(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static string Pad(string s) => s.PadRight(s.Length + ((4 - (s.Length % 4)) % 4), '=');
}

/// <summary>A host that allows no clock skew, so token expiry is exact.</summary>
public sealed class NoSkewFixture : AppFixture
{
    protected override void ConfigureHost(IWebHostBuilder builder)
    {
        builder.UseSetting("Jwt:ClockSkewSeconds", "0");
    }
}

public sealed class AccessTokenCacheTests(NoSkewFixture api) : IClassFixture<NoSkewFixture>
{
    [Fact]
    public async Task A_remembered_token_is_refused_once_it_expires()
    {
        var user = await api.CreateUserAsync();
        var now = DateTime.UtcNow;
        var client = api.CreateBearerClient(TestTokens.Create(api.SigningKey, user.Id, "user", now.AddMinutes(-1), now.AddSeconds(2)));
        await client.GetAsync("/api/v1/users/me").ShouldHaveStatusAsync(HttpStatusCode.OK);
        await client.GetAsync("/api/v1/users/me").ShouldHaveStatusAsync(HttpStatusCode.OK);

        await Task.Delay(TimeSpan.FromSeconds(2.5));

        await client.GetAsync("/api/v1/users/me").ShouldBeProblemAsync(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task An_altered_copy_of_a_remembered_token_is_refused()
    {
        var user = await api.CreateUserAsync();
        var client = api.ClientFor(user);
        await client.GetAsync("/api/v1/users/me").ShouldHaveStatusAsync(HttpStatusCode.OK);
        var parts = user.AccessToken.Split('.');
        var altered = $"{parts[0]}.{parts[1]}.{(parts[2][0] == 'A' ? 'B' : 'A')}{parts[2][1..]}";

        client = api.CreateBearerClient(altered);

        await client.GetAsync("/api/v1/users/me").ShouldBeProblemAsync(HttpStatusCode.Unauthorized);
    }
}
