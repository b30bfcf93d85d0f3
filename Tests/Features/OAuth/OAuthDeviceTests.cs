using System.Net;
using System.Text.Json;
using SliceApi.Features.OAuth;
using SliceApi.Tests.Support;

namespace SliceApi.Tests.Features.OAuth;

/// <summary>The device authorization grant (RFC 8628) through HTTP: the device asks, the user confirms on the page, the device polls.</summary>
public sealed class OAuthDeviceTests(AppFixture api) : IClassFixture<AppFixture>
{
    [Fact]
    public async Task A_device_shows_a_code_the_user_confirms_it_on_the_page_and_the_device_gets_its_tokens()
    {
        var user = await api.CreateUserAsync();
        var clientId = await RegisterAsync(user);
        using var device = new OAuthBrowser(api.Host);
        using var browser = new OAuthBrowser(api.Host);

        var (status, started) = await device.PostFormAsync("/oauth/device", ("client_id", clientId), ("scope", "tasks:read offline_access"));
        status.ShouldBe(HttpStatusCode.OK, started.ToString());
        var userCode = started.GetProperty("user_code").GetString()!;
        var deviceCode = started.GetProperty("device_code").GetString()!;
        started.GetProperty("verification_uri").GetString().ShouldBe("http://localhost/oauth/device/verify");
        started.GetProperty("expires_in").GetInt32().ShouldBeGreaterThan(0);
        (string, string?)[] poll = [("grant_type", "urn:ietf:params:oauth:grant-type:device_code"), ("device_code", deviceCode), ("client_id", clientId)];
        var (pending, waiting) = await device.TokenAsync(poll);
        pending.ShouldBe(HttpStatusCode.BadRequest);
        waiting.GetProperty("error").GetString().ShouldBe("authorization_pending");

        var signIn = await browser.GetAsync(OAuthPages.VerifyPath);
        signIn.Heading.ShouldBe("Sign in to SliceApi");
        var enter = await browser.SubmitAsync(signIn, ("email", user.Email), ("password", user.Password), ("action", "signin"));
        enter.Heading.ShouldBe("Enter the code");
        var wrong = await browser.SubmitAsync(enter, ("user_code", "000000000000"), ("action", "code"));
        wrong.Status.ShouldBe(HttpStatusCode.BadRequest);
        wrong.Html.ShouldContain("That code is not valid or has expired");
        var consent = await browser.SubmitAsync(wrong, ("user_code", userCode), ("action", "code"));
        consent.Heading.ShouldBe("Allow Smart TV?");
        consent.Html.ShouldContain("See your tasks");
        consent.Html.ShouldContain(userCode);
        var allowed = await browser.SubmitAsync(consent, ("action", "allow"));
        allowed.Status.ShouldBe(HttpStatusCode.Found, allowed.Html);
        (await browser.GetAsync(allowed.Location!.ToString())).Heading.ShouldBe("Done");

        var (granted, tokens) = await device.TokenAsync(poll);
        granted.ShouldBe(HttpStatusCode.OK, tokens.ToString());
        tokens.GetProperty("scope").GetString().ShouldBe("tasks:read offline_access");
        await api.CreateBearerClient(tokens.GetProperty("access_token").GetString()!).GetAsync("/api/v1/tasks").ShouldHaveStatusAsync(HttpStatusCode.OK);
        (await device.TokenAsync(poll)).Status.ShouldBe(HttpStatusCode.BadRequest, "a device code is good once");
    }

    [Fact]
    public async Task The_user_may_deny_and_the_device_then_gets_access_denied()
    {
        var user = await api.CreateUserAsync();
        var clientId = await RegisterAsync(user);
        using var device = new OAuthBrowser(api.Host);
        using var browser = new OAuthBrowser(api.Host);
        var (_, started) = await device.PostFormAsync("/oauth/device", ("client_id", clientId), ("scope", "tasks:read"));

        var signIn = await browser.GetAsync(started.GetProperty("verification_uri_complete").GetString()!);
        var consent = await browser.SubmitAsync(signIn, ("email", user.Email), ("password", user.Password), ("action", "signin"));
        consent.Heading.ShouldBe("Allow Smart TV?", "the code came in the link");
        var denied = await browser.SubmitAsync(consent, ("action", "deny"));

        denied.Status.ShouldBe(HttpStatusCode.Found, denied.Html);
        (await browser.GetAsync(denied.Location!.ToString())).Heading.ShouldBe("Not connected");
        var (status, body) = await device.TokenAsync(
            ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"), ("device_code", started.GetProperty("device_code").GetString()), ("client_id", clientId));
        status.ShouldBe(HttpStatusCode.BadRequest);
        body.GetProperty("error").GetString().ShouldBe("access_denied");
    }

    private static readonly string[] RedirectUris = ["http://127.0.0.1:7777/cb"];

    private async Task<string> RegisterAsync(TestUser owner)
    {
        var created = await api.ClientFor(owner).PostAsJsonAsync("/api/v1/oauth/apps", new { name = "Smart TV", clientType = "public", redirectUris = RedirectUris })
            .ShouldReturnAsync<CreateOAuthAppResponse>(HttpStatusCode.Created);
        return created.App.ClientId;
    }
}
