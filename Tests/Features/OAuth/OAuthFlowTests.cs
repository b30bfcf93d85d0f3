using System.Net;
using System.Text.Json;
using Microsoft.IdentityModel.JsonWebTokens;
using SliceApi.Features.OAuth;
using SliceApi.Infrastructure.Security;
using SliceApi.Tests.Support;

namespace SliceApi.Tests.Features.OAuth;

/// <summary>
/// The OAuth 2.0 server through HTTP: the authorization page (sign-in, consent, antiforgery), the token endpoint (code
/// with PKCE, refresh rotation and reuse detection), revocation, metadata, and app tokens at the API.
/// </summary>
public sealed class OAuthFlowTests(AppFixture api) : IClassFixture<AppFixture>
{
    private const string Callback = "http://127.0.0.1:7777/cb";

    [Fact]
    public async Task An_app_signs_a_user_in_gets_consent_and_calls_the_api_with_exactly_its_scopes_and_the_users_role()
    {
        var user = await api.CreateUserAsync();
        var other = await api.CreateUserAsync();
        var mine = await api.CreateTaskAsync(user.Id, "mine");
        await api.CreateTaskAsync(other.Id, "not mine");
        var app = await RegisterAsync(user, "public");
        using var browser = new OAuthBrowser(api.Host);
        var pkce = Pkce.Create();

        var signIn = await browser.OpenAsync(OAuthBrowser.AuthorizeQuery(app.ClientId, Callback, "tasks:read profile", "st", pkce));
        signIn.Heading.ShouldBe("Sign in to SliceApi");
        signIn.Html.ShouldContain("Calendar sync");
        var policy = signIn.Headers.GetValues("Content-Security-Policy").Single();
        policy.ShouldContain("default-src 'none'");
        policy.ShouldContain("frame-ancestors 'none'");
        policy.ShouldContain("form-action 'self' http://127.0.0.1:7777");
        signIn.Headers.CacheControl!.NoStore.ShouldBeTrue();
        signIn.Html.ShouldNotContain("src=", Case.Insensitive, "no external assets");
        signIn.Html.ShouldNotContain("<link", Case.Insensitive, "no external assets");

        var consent = await browser.SubmitAsync(signIn, ("email", user.Email), ("password", user.Password), ("action", "signin"));
        consent.Heading.ShouldBe("Allow Calendar sync?");
        consent.Html.ShouldContain("See your tasks");
        consent.Html.ShouldContain("See your account: email, display name and role");
        consent.Html.ShouldNotContain("Create, change and delete your tasks");

        var redirect = await browser.SubmitAsync(consent, ("action", "allow"));
        redirect.Status.ShouldBe(HttpStatusCode.Found);
        redirect.Location!.GetLeftPart(UriPartial.Path).ShouldBe(Callback);
        OAuthBrowser.QueryValue(redirect.Location, "state").ShouldBe("st");
        var (status, tokens) = await browser.TokenAsync(
            ("grant_type", "authorization_code"), ("code", OAuthBrowser.QueryValue(redirect.Location, "code")),
            ("client_id", app.ClientId), ("redirect_uri", Callback), ("code_verifier", pkce.Verifier));
        status.ShouldBe(HttpStatusCode.OK, tokens.ToString());
        tokens.GetProperty("token_type").GetString().ShouldBe("Bearer");
        tokens.TryGetProperty("refresh_token", out _).ShouldBeFalse("no offline_access, no refresh token");
        var accessToken = tokens.GetProperty("access_token").GetString()!;
        var jwt = new JsonWebToken(accessToken);
        jwt.Typ.ShouldBe("at+jwt");
        jwt.Alg.ShouldBe("ES256");
        jwt.GetClaim("client_id").Value.ShouldBe(app.ClientId);
        jwt.GetClaim("scope").Value.ShouldBe("tasks:read profile");
        jwt.Subject.ShouldBe(user.Id.ToString());

        var client = api.CreateBearerClient(accessToken);
        var listed = await client.GetAsync("/api/v1/tasks").ShouldHaveStatusAsync(HttpStatusCode.OK);
        var items = (await listed.ReadAsJsonAsync<JsonElement>()).GetProperty("items").EnumerateArray().Select(t => t.GetProperty("id").GetGuid()).ToList();
        items.ShouldBe([mine.Id]);
        (await client.GetAsync("/api/v1/users/me").ShouldReturnAsync<JsonElement>()).GetProperty("id").GetGuid().ShouldBe(user.Id);

        var write = await client.PostAsJsonAsync("/api/v1/tasks", new { title = "by the app" });
        (await write.ShouldBeProblemAsync(HttpStatusCode.Forbidden)).GetProperty("detail").GetString().ShouldBe("The app's access token lacks the scope 'tasks:write'.");
        write.WwwAuthenticate().ShouldBe("Bearer error=\"insufficient_scope\", scope=\"tasks:write\"");
        foreach (var url in new[] { "/api/v1/api-keys", "/api/v1/oauth/apps" })
        {
            var refused = await client.GetAsync(url);
            (await refused.ShouldBeProblemAsync(HttpStatusCode.Forbidden)).GetProperty("detail").GetString()!.ShouldContain("only the user's own access token");
            refused.WwwAuthenticate().ShouldBe("Bearer error=\"insufficient_scope\"");
        }

        await client.PostAsJsonAsync("/api/v1/users/me/password", new { currentPassword = user.Password, newPassword = "another long passphrase" })
            .ShouldBeProblemAsync(HttpStatusCode.Forbidden);
        await client.DeleteAsync($"/api/v1/users/{user.Id}").ShouldBeProblemAsync(HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task An_admins_app_token_acts_with_its_scopes_only_never_on_admin_endpoints()
    {
        var admin = await api.CreateUserAsync(AppRoles.Admin);
        var app = await RegisterAsync(admin, "public");
        using var browser = new OAuthBrowser(api.Host);
        var token = await GetTokensAsync(browser, admin, app, "tasks:read tasks:write profile");

        var client = api.CreateBearerClient(token.GetProperty("access_token").GetString()!);

        (await client.GetAsync("/api/v1/users/me").ShouldReturnAsync<JsonElement>()).GetProperty("role").GetString().ShouldBe(AppRoles.Admin);
        var made = await client.PostAsJsonAsync("/api/v1/tasks", new { title = "made by an app" }).ShouldReturnAsync<SliceApi.Features.Tasks.TaskResponse>(HttpStatusCode.Created);
        // The task's history names the app the user acted through.
        var created = (await client.GetAsync($"/api/v1/tasks/{made.Id}/history").ShouldReturnAsync<SliceApi.Features.Tasks.TaskHistoryResponse>()).Items.Single();
        created.Actor.ShouldBe(new SliceApi.Features.Tasks.TaskEventActorResponse(admin.Id, SliceApi.Features.Tasks.TaskEventChannel.OAuthApp, null, app.ClientId));
        await client.GetAsync("/api/v1/users").ShouldBeProblemAsync(HttpStatusCode.Forbidden);
        await client.GetAsync($"/api/v1/users/{admin.Id}").ShouldBeProblemAsync(HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task State_comes_back_unchanged_and_deny_sends_access_denied()
    {
        var user = await api.CreateUserAsync();
        var app = await RegisterAsync(user, "public");
        using var browser = new OAuthBrowser(api.Host);
        const string state = "a b/c?d=e&f+g%h~é";

        var denied = await browser.AuthorizeAsync(user, OAuthBrowser.AuthorizeQuery(app.ClientId, Callback, "tasks:read", state, Pkce.Create()), "deny");

        denied.Status.ShouldBe(HttpStatusCode.Found);
        OAuthBrowser.QueryValue(denied.Location!, "error").ShouldBe("access_denied");
        OAuthBrowser.QueryValue(denied.Location!, "state").ShouldBe(state);
        OAuthBrowser.QueryValue(denied.Location!, "code").ShouldBeNull();
        (await api.FindDocumentsAsync<OAuthAuthorization>(a => a.Subject == user.Id.ToString())).ShouldBeEmpty();
    }

    [Fact]
    public async Task An_unknown_client_or_a_redirect_uri_one_character_off_gets_an_error_page_and_no_redirect()
    {
        var user = await api.CreateUserAsync();
        var app = await RegisterAsync(user, "public");
        using var browser = new OAuthBrowser(api.Host);

        foreach (var query in new[]
        {
            OAuthBrowser.AuthorizeQuery("0123456789abcdef0123456789abcdef", Callback, "tasks:read", "s", Pkce.Create()),
            OAuthBrowser.AuthorizeQuery(app.ClientId, Callback + "/", "tasks:read", "s", Pkce.Create()),
            OAuthBrowser.AuthorizeQuery(app.ClientId, "http://127.0.0.1:7778/cb", "tasks:read", "s", Pkce.Create()),
            OAuthBrowser.AuthorizeQuery(app.ClientId, "http://127.0.0.1:7777/cB", "tasks:read", "s", Pkce.Create()),
        })
        {
            var page = await browser.OpenAsync(query);
            page.Status.ShouldBe(HttpStatusCode.BadRequest, query);
            page.Location.ShouldBeNull();
            page.Heading.ShouldBe("This link cannot be used");
        }
    }

    [Fact]
    public async Task Pkce_is_required_with_s256_and_a_missing_or_wrong_verifier_is_refused()
    {
        var user = await api.CreateUserAsync();
        var app = await RegisterAsync(user, "public");
        using var browser = new OAuthBrowser(api.Host);

        foreach (var (pkce, method) in new[] { ((Pkce?)null, "S256"), (Pkce.Create(), "plain") })
        {
            // OpenIddict checks the PKCE parameters before the app's redirect URI, so it answers here, not at the app.
            var refused = await browser.OpenAsync(OAuthBrowser.AuthorizeQuery(app.ClientId, Callback, "tasks:read", "s", pkce, method));
            refused.Status.ShouldBe(HttpStatusCode.BadRequest);
            refused.Location.ShouldBeNull();
            refused.Html.ShouldContain("code_challenge");
        }

        foreach (var verifier in new[] { null, Pkce.Create().Verifier })
        {
            var pkce = Pkce.Create();
            var code = await browser.GetCodeAsync(user, app.ClientId, Callback, "tasks:read", pkce);
            var (status, body) = await browser.TokenAsync(
                ("grant_type", "authorization_code"), ("code", code), ("client_id", app.ClientId), ("redirect_uri", Callback), ("code_verifier", verifier));
            status.ShouldBe(HttpStatusCode.BadRequest);
            body.GetProperty("error").GetString().ShouldBe(verifier is null ? "invalid_request" : "invalid_grant");
        }
    }

    [Fact]
    public async Task A_code_used_twice_is_refused_and_revokes_the_tokens_issued_from_it()
    {
        var user = await api.CreateUserAsync();
        var app = await RegisterAsync(user, "public");
        using var browser = new OAuthBrowser(api.Host);
        var pkce = Pkce.Create();
        var code = await browser.GetCodeAsync(user, app.ClientId, Callback, "tasks:read offline_access", pkce);
        (string, string?)[] exchange = [("grant_type", "authorization_code"), ("code", code), ("client_id", app.ClientId), ("redirect_uri", Callback), ("code_verifier", pkce.Verifier)];
        var (first, tokens) = await browser.TokenAsync(exchange);
        first.ShouldBe(HttpStatusCode.OK);
        var accessToken = tokens.GetProperty("access_token").GetString()!;
        await api.CreateBearerClient(accessToken).GetAsync("/api/v1/tasks").ShouldHaveStatusAsync(HttpStatusCode.OK);

        var (second, error) = await browser.TokenAsync(exchange);

        second.ShouldBe(HttpStatusCode.BadRequest);
        error.GetProperty("error").GetString().ShouldBe("invalid_grant");
        await api.CreateBearerClient(accessToken).GetAsync("/api/v1/tasks").ShouldHaveStatusAsync(HttpStatusCode.Unauthorized);
        var (refresh, _) = await browser.TokenAsync(("grant_type", "refresh_token"), ("refresh_token", tokens.GetProperty("refresh_token").GetString()), ("client_id", app.ClientId));
        refresh.ShouldBe(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task A_confidential_app_must_send_its_secret()
    {
        var user = await api.CreateUserAsync();
        var app = await RegisterAsync(user, "confidential");
        using var browser = new OAuthBrowser(api.Host);

        foreach (var secret in new[] { null, app.ClientSecret + "x", app.ClientSecret })
        {
            var pkce = Pkce.Create();
            var code = await browser.GetCodeAsync(user, app.ClientId, Callback, "tasks:read", pkce);
            var (status, body) = await browser.TokenAsync(
                ("grant_type", "authorization_code"), ("code", code), ("client_id", app.ClientId), ("client_secret", secret),
                ("redirect_uri", Callback), ("code_verifier", pkce.Verifier));
            if (secret == app.ClientSecret)
            {
                status.ShouldBe(HttpStatusCode.OK, body.ToString());
            }
            else
            {
                status.ShouldBe(HttpStatusCode.Unauthorized, body.ToString());
                body.GetProperty("error").GetString().ShouldBe("invalid_client");
            }
        }
    }

    [Fact]
    public async Task A_public_app_cannot_get_a_client_credentials_token_and_no_password_or_implicit_grant_exists()
    {
        var user = await api.CreateUserAsync();
        var app = await RegisterAsync(user, "public");
        using var browser = new OAuthBrowser(api.Host);

        foreach (var grant in new[] { "client_credentials", "password" })
        {
            var (status, body) = await browser.TokenAsync(("grant_type", grant), ("client_id", app.ClientId), ("username", user.Email), ("password", user.Password));
            status.ShouldBe(HttpStatusCode.BadRequest);
            body.GetProperty("error").GetString().ShouldBe("unsupported_grant_type");
        }

        var implicitFlow = await browser.OpenAsync($"response_type=token&client_id={app.ClientId}&redirect_uri={Uri.EscapeDataString(Callback)}&scope=tasks%3Aread&state=s");
        implicitFlow.Status.ShouldBe(HttpStatusCode.BadRequest);
        implicitFlow.Location.ShouldBeNull();
        implicitFlow.Html.ShouldContain("response_type");
    }

    [Fact]
    public async Task The_consent_form_posted_without_its_antiforgery_token_is_refused_and_grants_nothing()
    {
        var user = await api.CreateUserAsync();
        var app = await RegisterAsync(user, "public");
        using var browser = new OAuthBrowser(api.Host);
        var signIn = await browser.OpenAsync(OAuthBrowser.AuthorizeQuery(app.ClientId, Callback, "tasks:read", "s", Pkce.Create()));
        var consent = await browser.SubmitAsync(signIn, ("email", user.Email), ("password", user.Password), ("action", "signin"));

        var forged = await browser.SubmitAsync(consent, ("action", "allow"), ("__RequestVerificationToken", null));
        var withSignInToken = await browser.SubmitAsync(consent, ("action", "allow"), ("__RequestVerificationToken", signIn.HiddenFields()["__RequestVerificationToken"]));

        foreach (var page in new[] { forged, withSignInToken })
        {
            page.Status.ShouldBe(HttpStatusCode.BadRequest);
            page.Location.ShouldBeNull();
            page.Heading.ShouldBe("This form has expired");
        }

        (await api.FindDocumentsAsync<OAuthAuthorization>(a => a.Subject == user.Id.ToString())).ShouldBeEmpty();
    }

    [Fact]
    public async Task A_wrong_password_on_the_sign_in_page_says_so_and_counts_toward_the_lockout()
    {
        var user = await api.CreateUserAsync();
        var app = await RegisterAsync(user, "public");
        using var browser = new OAuthBrowser(api.Host);
        var page = await browser.OpenAsync(OAuthBrowser.AuthorizeQuery(app.ClientId, Callback, "tasks:read", "s", Pkce.Create()));

        for (var i = 0; i < 5; i++)
        {
            page = await browser.SubmitAsync(page, ("email", user.Email), ("password", "wrong password " + i), ("action", "signin"));
            page.Status.ShouldBe(HttpStatusCode.OK);
            page.Html.ShouldContain("The email and password do not match an account.");
        }

        var locked = await browser.SubmitAsync(page, ("email", user.Email), ("password", user.Password), ("action", "signin"));
        locked.Status.ShouldBe(HttpStatusCode.TooManyRequests);
        locked.Html.ShouldContain("paused after 5 failures");
        locked.Heading.ShouldBe("Sign in to SliceApi");
    }

    [Fact]
    public async Task Refresh_tokens_rotate_and_a_reused_one_revokes_the_whole_grant()
    {
        var user = await api.CreateUserAsync();
        var app = await RegisterAsync(user, "public");
        using var browser = new OAuthBrowser(api.Host);
        var first = await GetTokensAsync(browser, user, app, "tasks:read offline_access");
        var oldRefresh = first.GetProperty("refresh_token").GetString();

        var (status, second) = await browser.TokenAsync(("grant_type", "refresh_token"), ("refresh_token", oldRefresh), ("client_id", app.ClientId));
        status.ShouldBe(HttpStatusCode.OK);
        var newRefresh = second.GetProperty("refresh_token").GetString();
        newRefresh.ShouldNotBe(oldRefresh);
        var newAccess = second.GetProperty("access_token").GetString()!;
        await api.CreateBearerClient(newAccess).GetAsync("/api/v1/tasks").ShouldHaveStatusAsync(HttpStatusCode.OK);

        var (reused, error) = await browser.TokenAsync(("grant_type", "refresh_token"), ("refresh_token", oldRefresh), ("client_id", app.ClientId));

        reused.ShouldBe(HttpStatusCode.BadRequest);
        error.GetProperty("error").GetString().ShouldBe("invalid_grant");
        await api.CreateBearerClient(newAccess).GetAsync("/api/v1/tasks").ShouldHaveStatusAsync(HttpStatusCode.Unauthorized);
        (await browser.TokenAsync(("grant_type", "refresh_token"), ("refresh_token", newRefresh), ("client_id", app.ClientId))).Status.ShouldBe(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task One_refresh_token_sent_many_times_at_once_gives_at_most_one_new_pair()
    {
        var user = await api.CreateUserAsync();
        var app = await RegisterAsync(user, "public");
        using var browser = new OAuthBrowser(api.Host);
        for (var round = 0; round < 3; round++)
        {
            var refresh = (await GetTokensAsync(browser, user, app, "tasks:read offline_access")).GetProperty("refresh_token").GetString();

            var results = await Race.AtOnceAsync(8, _ => browser.TokenAsync(("grant_type", "refresh_token"), ("refresh_token", refresh), ("client_id", app.ClientId)));

            results.Count(r => r.Status == HttpStatusCode.OK).ShouldBeLessThanOrEqualTo(1, $"round {round}");
            results.Where(r => r.Status != HttpStatusCode.OK).ShouldAllBe(r => r.Status == HttpStatusCode.BadRequest);
        }
    }

    [Fact]
    public async Task One_code_exchanged_many_times_at_once_gives_one_token_response()
    {
        var user = await api.CreateUserAsync();
        var app = await RegisterAsync(user, "public");
        using var browser = new OAuthBrowser(api.Host);
        for (var round = 0; round < 3; round++)
        {
            var pkce = Pkce.Create();
            var code = await browser.GetCodeAsync(user, app.ClientId, Callback, "tasks:read", pkce);

            var results = await Race.AtOnceAsync(8, _ => browser.TokenAsync(
                ("grant_type", "authorization_code"), ("code", code), ("client_id", app.ClientId), ("redirect_uri", Callback), ("code_verifier", pkce.Verifier)));

            results.Count(r => r.Status == HttpStatusCode.OK).ShouldBe(1, $"round {round}");
            results.Where(r => r.Status != HttpStatusCode.OK).ShouldAllBe(r => r.Status == HttpStatusCode.BadRequest);
        }
    }

    [Fact]
    public async Task Revoking_a_token_ends_it_and_deleting_the_app_ends_every_token_issued_to_it()
    {
        var user = await api.CreateUserAsync();
        var app = await RegisterAsync(user, "public");
        using var browser = new OAuthBrowser(api.Host);
        var revoked = await GetTokensAsync(browser, user, app, "tasks:read offline_access");
        var kept = await GetTokensAsync(browser, user, app, "tasks:read offline_access");

        (await browser.RevokeAsync(("token", revoked.GetProperty("refresh_token").GetString()!), ("client_id", app.ClientId))).ShouldBe(HttpStatusCode.OK);
        (await browser.TokenAsync(("grant_type", "refresh_token"), ("refresh_token", revoked.GetProperty("refresh_token").GetString()), ("client_id", app.ClientId)))
            .Status.ShouldBe(HttpStatusCode.BadRequest);
        (await browser.RevokeAsync(("token", revoked.GetProperty("access_token").GetString()!), ("client_id", app.ClientId))).ShouldBe(HttpStatusCode.OK);
        await api.CreateBearerClient(revoked.GetProperty("access_token").GetString()!).GetAsync("/api/v1/tasks").ShouldHaveStatusAsync(HttpStatusCode.Unauthorized);
        await api.CreateBearerClient(kept.GetProperty("access_token").GetString()!).GetAsync("/api/v1/tasks").ShouldHaveStatusAsync(HttpStatusCode.OK);

        await api.ClientFor(user).DeleteAsync($"/api/v1/oauth/apps/{app.Id}").ShouldHaveStatusAsync(HttpStatusCode.NoContent);

        await api.CreateBearerClient(kept.GetProperty("access_token").GetString()!).GetAsync("/api/v1/tasks").ShouldHaveStatusAsync(HttpStatusCode.Unauthorized);
        (await browser.TokenAsync(("grant_type", "refresh_token"), ("refresh_token", kept.GetProperty("refresh_token").GetString()), ("client_id", app.ClientId)))
            .Status.ShouldNotBe(HttpStatusCode.OK);
        (await api.FindDocumentsAsync<OAuthToken>(t => t.ApplicationId == app.Id)).ShouldBeEmpty();
        (await api.FindDocumentsAsync<OAuthAuthorization>(a => a.ApplicationId == app.Id)).ShouldBeEmpty();
    }

    [Fact]
    public async Task A_password_change_or_deactivation_ends_the_apps_access_tokens()
    {
        var user = await api.CreateUserAsync();
        var admin = await api.CreateUserAsync(AppRoles.Admin);
        var app = await RegisterAsync(user, "public");
        using var browser = new OAuthBrowser(api.Host);
        var beforeChange = await GetTokensAsync(browser, user, app, "tasks:read");
        await Task.Delay(TimeSpan.FromSeconds(1.1)); // iat has whole seconds

        await api.ClientFor(user).PostAsJsonAsync("/api/v1/users/me/password", new { currentPassword = user.Password, newPassword = "another long passphrase" })
            .ShouldHaveStatusAsync(HttpStatusCode.NoContent);

        await api.CreateBearerClient(beforeChange.GetProperty("access_token").GetString()!).GetAsync("/api/v1/tasks").ShouldHaveStatusAsync(HttpStatusCode.Unauthorized);

        var changed = user with { Password = "another long passphrase" };
        await Task.Delay(TimeSpan.FromSeconds(1.1));
        var afterChange = await GetTokensAsync(browser, changed, app, "tasks:read");
        await api.CreateBearerClient(afterChange.GetProperty("access_token").GetString()!).GetAsync("/api/v1/tasks").ShouldHaveStatusAsync(HttpStatusCode.OK);
        await api.ClientFor(admin).PatchAsJsonAsync($"/api/v1/users/{user.Id}", new { isActive = false }).ShouldHaveStatusAsync(HttpStatusCode.OK);
        await api.CreateBearerClient(afterChange.GetProperty("access_token").GetString()!).GetAsync("/api/v1/tasks").ShouldHaveStatusAsync(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task A_user_lists_the_grants_given_and_revoking_one_ends_its_tokens_at_once()
    {
        var user = await api.CreateUserAsync();
        var other = await api.CreateUserAsync();
        var calendar = await RegisterAsync(other, "public");
        var cli = await RegisterAsync(other, "confidential");
        using var browser = new OAuthBrowser(api.Host);
        var calendarTokens = await GetTokensAsync(browser, user, calendar, "tasks:read offline_access");
        await GetTokensAsync(browser, user, calendar, "tasks:read offline_access"); // the same grant again: not a second one
        var cliTokens = await GetTokensAsync(browser, user, cli, "profile");
        var owner = api.ClientFor(user);

        var listed = await owner.GetAsync("/api/v1/users/me/authorizations").ShouldReturnAsync<List<GrantResponse>>();

        listed.Count.ShouldBe(2, "a second consent to the same app with the same scopes reuses its grant");
        listed[0].App.ClientId.ShouldBe(cli.ClientId);
        listed[0].Scopes.ShouldBe(["profile"]);
        listed[1].App.ClientId.ShouldBe(calendar.ClientId);
        listed[1].Scopes.ShouldBe(["offline_access", "tasks:read"]);
        listed[1].GrantedAt.ShouldBeInRange(DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddSeconds(1));
        (await api.ClientFor(other).GetAsync("/api/v1/users/me/authorizations").ShouldReturnAsync<List<GrantResponse>>()).ShouldBeEmpty();
        await api.ClientFor(other).DeleteAsync($"/api/v1/users/me/authorizations/{listed[1].Id}").ShouldBeProblemAsync(HttpStatusCode.NotFound);

        await owner.DeleteAsync($"/api/v1/users/me/authorizations/{listed[1].Id}").ShouldHaveStatusAsync(HttpStatusCode.NoContent);

        await api.CreateBearerClient(calendarTokens.GetProperty("access_token").GetString()!).GetAsync("/api/v1/tasks").ShouldHaveStatusAsync(HttpStatusCode.Unauthorized);
        (await browser.TokenAsync(("grant_type", "refresh_token"), ("refresh_token", calendarTokens.GetProperty("refresh_token").GetString()), ("client_id", calendar.ClientId)))
            .Status.ShouldBe(HttpStatusCode.BadRequest);
        await api.CreateBearerClient(cliTokens.GetProperty("access_token").GetString()!).GetAsync("/api/v1/users/me").ShouldHaveStatusAsync(HttpStatusCode.OK);
        (await owner.GetAsync("/api/v1/users/me/authorizations").ShouldReturnAsync<List<GrantResponse>>()).Select(g => g.Id).ShouldBe([listed[0].Id]);
        await owner.DeleteAsync($"/api/v1/users/me/authorizations/{listed[1].Id}").ShouldBeProblemAsync(HttpStatusCode.NotFound);
        await api.CreateBearerClient(cliTokens.GetProperty("access_token").GetString()!).GetAsync("/api/v1/users/me/authorizations")
            .ShouldBeProblemAsync(HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task Concurrent_revocations_of_one_grant_give_one_204()
    {
        var user = await api.CreateUserAsync();
        var app = await RegisterAsync(user, "public");
        using var browser = new OAuthBrowser(api.Host);
        var owner = api.ClientFor(user);
        for (var round = 0; round < 3; round++)
        {
            await GetTokensAsync(browser, user, app, "tasks:read");
            var grant = (await owner.GetAsync("/api/v1/users/me/authorizations").ShouldReturnAsync<List<GrantResponse>>()).ShouldHaveSingleItem();

            var results = await Race.AtOnceAsync(6, _ => owner.DeleteAsync($"/api/v1/users/me/authorizations/{grant.Id}"));

            results.Count(r => r.StatusCode() == HttpStatusCode.NoContent).ShouldBe(1, $"round {round}");
            results.Where(r => r.StatusCode() != HttpStatusCode.NoContent).ShouldAllBe(r => r.StatusCode() == HttpStatusCode.NotFound);
        }
    }

    [Fact]
    public async Task A_password_change_or_deactivation_ends_the_grant_so_a_refresh_is_refused_and_the_list_is_empty()
    {
        var user = await api.CreateUserAsync();
        var admin = await api.CreateUserAsync(AppRoles.Admin);
        var app = await RegisterAsync(user, "public");
        using var browser = new OAuthBrowser(api.Host);
        var tokens = await GetTokensAsync(browser, user, app, "tasks:read offline_access");
        await Task.Delay(TimeSpan.FromMilliseconds(10));

        await api.ClientFor(user).PostAsJsonAsync("/api/v1/users/me/password", new { currentPassword = user.Password, newPassword = "another long passphrase" })
            .ShouldHaveStatusAsync(HttpStatusCode.NoContent);

        var (status, body) = await browser.TokenAsync(("grant_type", "refresh_token"), ("refresh_token", tokens.GetProperty("refresh_token").GetString()), ("client_id", app.ClientId));
        status.ShouldBe(HttpStatusCode.BadRequest);
        body.GetProperty("error_description").GetString()!.ShouldContain("grant ended");
        var login = await api.CreateAnonymousClient().PostAsJsonAsync("/api/v1/auth/login", new { email = user.Email, password = "another long passphrase" })
            .ShouldReturnAsync<JsonElement>();
        (await api.CreateBearerClient(login.GetProperty("accessToken").GetString()!).GetAsync("/api/v1/users/me/authorizations")
            .ShouldReturnAsync<List<GrantResponse>>()).ShouldBeEmpty();
        (await api.FindDocumentsAsync<OAuthAuthorization>(a => a.Subject == user.Id.ToString())).ShouldAllBe(a => a.Status == "revoked");

        var changed = user with { Password = "another long passphrase" };
        var again = await GetTokensAsync(browser, changed, app, "tasks:read offline_access");
        await api.ClientFor(admin).PatchAsJsonAsync($"/api/v1/users/{user.Id}", new { isActive = false }).ShouldHaveStatusAsync(HttpStatusCode.OK);
        (await browser.TokenAsync(("grant_type", "refresh_token"), ("refresh_token", again.GetProperty("refresh_token").GetString()), ("client_id", app.ClientId)))
            .Status.ShouldBe(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task The_scopes_are_stored_documents_and_a_scope_outside_them_is_refused()
    {
        (await api.FindDocumentsAsync<OAuthScope>(s => s.Name != null)).Select(s => (s.Name, s.DisplayName)).OrderBy(p => p.Name, StringComparer.Ordinal)
            .ShouldBe(ApiScopes.Descriptions.Select(p => ((string?)p.Key, (string?)p.Value)).OrderBy(p => p.Item1, StringComparer.Ordinal));
        var user = await api.CreateUserAsync();
        var app = await RegisterAsync(user, "public");
        using var browser = new OAuthBrowser(api.Host);

        var refused = await browser.OpenAsync(OAuthBrowser.AuthorizeQuery(app.ClientId, Callback, "tasks:read admin", "st", Pkce.Create()));

        // OpenIddict checks the scopes before the app's redirect URI, so the answer is the error page, not a redirect.
        refused.Status.ShouldBe(HttpStatusCode.BadRequest);
        refused.Location.ShouldBeNull();
        refused.Html.ShouldContain("scope");
        (await browser.OpenAsync(OAuthBrowser.AuthorizeQuery(app.ClientId, Callback, "tasks:read profile", "st", Pkce.Create()))).Status.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task The_server_metadata_names_the_endpoints_s256_and_only_the_grants_and_scopes_it_allows()
    {
        using var browser = new OAuthBrowser(api.Host);
        var metadata = await api.CreateAnonymousClient().GetAsync("/.well-known/oauth-authorization-server").ShouldReturnAsync<JsonElement>();

        metadata.GetProperty("authorization_endpoint").GetString().ShouldBe("http://localhost/oauth/authorize");
        metadata.GetProperty("token_endpoint").GetString().ShouldBe("http://localhost/oauth/token");
        metadata.GetProperty("revocation_endpoint").GetString().ShouldBe("http://localhost/oauth/revoke");
        metadata.GetProperty("code_challenge_methods_supported").EnumerateArray().Select(e => e.GetString()).ShouldBe(["S256"]);
        metadata.GetProperty("grant_types_supported").EnumerateArray().Select(e => e.GetString()).Order().ShouldBe(["authorization_code", "refresh_token", "urn:ietf:params:oauth:grant-type:device_code"]);
        metadata.GetProperty("device_authorization_endpoint").GetString().ShouldBe("http://localhost/oauth/device");
        metadata.GetProperty("response_types_supported").EnumerateArray().Select(e => e.GetString()).ShouldBe(["code"]);
        metadata.GetProperty("scopes_supported").EnumerateArray().Select(e => e.GetString()).Order().ShouldBe(OAuthScopes.All.Order());
        var keys = await api.CreateAnonymousClient().GetAsync(metadata.GetProperty("jwks_uri").GetString()!.Replace("http://localhost", "")).ShouldReturnAsync<JsonElement>();
        keys.GetProperty("keys").EnumerateArray().ShouldHaveSingleItem().GetProperty("alg").GetString().ShouldBe("ES256");
    }

    private sealed record RegisteredApp(Guid Id, string ClientId, string? ClientSecret);

    private async Task<RegisteredApp> RegisterAsync(TestUser owner, string clientType)
    {
        var created = await api.ClientFor(owner).PostAsJsonAsync("/api/v1/oauth/apps", new { name = "Calendar sync", clientType, redirectUris = new[] { Callback } })
            .ShouldReturnAsync<CreateOAuthAppResponse>(HttpStatusCode.Created);
        return new RegisteredApp(created.App.Id, created.App.ClientId, created.ClientSecret);
    }

    private static async Task<JsonElement> GetTokensAsync(OAuthBrowser browser, TestUser user, RegisteredApp app, string scope)
    {
        var pkce = Pkce.Create();
        var code = await browser.GetCodeAsync(user, app.ClientId, Callback, scope, pkce);
        var (status, tokens) = await browser.TokenAsync(
            ("grant_type", "authorization_code"), ("code", code), ("client_id", app.ClientId), ("client_secret", app.ClientSecret),
            ("redirect_uri", Callback), ("code_verifier", pkce.Verifier));
        status.ShouldBe(HttpStatusCode.OK, tokens.ToString());
        return tokens;
    }
}
