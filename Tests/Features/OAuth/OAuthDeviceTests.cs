using System.Net;
using System.Text.Json;
using SliceApi.Features.OAuth;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using SliceApi.Tests.Infrastructure;
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

    private Task<string> RegisterAsync(TestUser owner) => OAuthBrowser.RegisterPublicAppAsync(api, owner, "Smart TV", "http://127.0.0.1:7777/cb");
}

/// <summary>An app, its grant, its tokens and its user's browser seen from two instances.</summary>
public sealed class OAuthAcrossInstancesTests(TwoInstancesFixture api) : IClassFixture<TwoInstancesFixture>
{
    private static readonly string[] Redirect = ["http://127.0.0.1:7777/cb"];

    [Fact]
    public async Task A_grant_revoked_on_one_instance_ends_the_apps_token_on_the_other_at_once()
    {
        var user = await api.CreateUserAsync();
        var clientId = await OAuthBrowser.RegisterPublicAppAsync(api, user, "Two places", Redirect[0]);
        using var browser = new OAuthBrowser(api.Host);
        var pkce = Pkce.Create();
        var (_, tokens) = await browser.ExchangeAsync(clientId, await browser.GetCodeAsync(user, clientId, Redirect[0], "tasks:read", pkce), Redirect[0], pkce);
        var onB = api.SecondClientFor(tokens.GetProperty("access_token").GetString()!);
        await onB.GetAsync("/api/v1/tasks").ShouldHaveStatusAsync(HttpStatusCode.OK);
        var grant = (await api.ClientFor(user).GetAsync("/api/v1/users/me/authorizations").ShouldReturnAsync<List<GrantResponse>>()).ShouldHaveSingleItem();

        await api.ClientFor(user).DeleteAsync($"/api/v1/users/me/authorizations/{grant.Id}").ShouldHaveStatusAsync(HttpStatusCode.NoContent);

        await onB.GetAsync("/api/v1/tasks").ShouldHaveStatusAsync(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task The_sign_in_on_one_instance_and_the_consent_on_the_other_share_the_session_and_antiforgery_keys()
    {
        var user = await api.CreateUserAsync();
        var clientId = await OAuthBrowser.RegisterPublicAppAsync(api, user, "Two places", Redirect[0]);
        using var onA = new OAuthBrowser(api.Host);
        var signIn = await onA.OpenAsync(OAuthBrowser.AuthorizeQuery(clientId, Redirect[0], "tasks:read", "s", Pkce.Create()));
        var consent = await onA.SubmitAsync(signIn, ("email", user.Email), ("password", user.Password), ("action", "signin"));
        using var onB = new OAuthBrowser(api.Second);
        onB.CopyCookiesFrom(onA);

        var allowed = await onB.SubmitAsync(consent, ("action", "allow"));

        allowed.Status.ShouldBe(HttpStatusCode.Found, allowed.Html);
        OAuthBrowser.QueryValue(allowed.Location!, "code").ShouldNotBeNull();
    }
}

/// <summary>An app whose authorization codes live <see cref="Seconds"/> seconds (long enough for a loaded CI machine to exchange one in time).</summary>
public sealed class ShortCodeFixture : AppFixture
{
    /// <summary>The codes' lifetime.</summary>
    public const int Seconds = 5;

    protected override void ConfigureHost(IWebHostBuilder builder) =>
        builder.UseSetting("OAuth:AuthorizationCodeLifetimeSeconds", Seconds.ToString(System.Globalization.CultureInfo.InvariantCulture));
}

/// <summary>An authorization code exchanged after it expired is refused (RFC 6749 section 4.1.2).</summary>
public sealed class OAuthExpiredCodeTests(ShortCodeFixture api) : IClassFixture<ShortCodeFixture>
{
    private static readonly string[] Redirect = ["http://127.0.0.1:7777/cb"];

    [Fact]
    public async Task An_expired_code_is_refused()
    {
        var user = await api.CreateUserAsync();
        var clientId = await OAuthBrowser.RegisterPublicAppAsync(api, user, "Slow app", Redirect[0]);
        using var browser = new OAuthBrowser(api.Host);
        var fresh = Pkce.Create();
        (await browser.ExchangeAsync(clientId, await browser.GetCodeAsync(user, clientId, Redirect[0], "tasks:read", fresh), Redirect[0], fresh))
            .Status.ShouldBe(HttpStatusCode.OK, "a code exchanged in time works here");
        var pkce = Pkce.Create();
        var code = await browser.GetCodeAsync(user, clientId, Redirect[0], "tasks:read", pkce);

        await Task.Delay(TimeSpan.FromSeconds(ShortCodeFixture.Seconds + 1.5));
        var (status, body) = await browser.ExchangeAsync(clientId, code, Redirect[0], pkce);

        status.ShouldBe(HttpStatusCode.BadRequest);
        body.GetProperty("error").GetString().ShouldBe("invalid_grant");
        body.GetProperty("error_description").GetString().ShouldBe("The specified authorization code is no longer valid.");
    }
}

/// <summary>A host that lets an anonymous client address make 4 requests a minute.</summary>
public sealed class AnonymousLimitFixture : AppFixture
{
    protected override void ConfigureHost(IWebHostBuilder builder) => builder.UseSetting("RateLimiting:AnonymousPerMinute", "4");
}

/// <summary>OpenIddict's endpoints answer before the routed endpoints' limiter, so they are limited on their own.</summary>
public sealed class OAuthRateLimitTests(AnonymousLimitFixture api) : IClassFixture<AnonymousLimitFixture>
{
    [Fact]
    public async Task The_token_endpoint_answers_429_past_the_anonymous_limit()
    {
        using var app = new OAuthBrowser(api.Host);
        for (var i = 0; i < 4; i++)
        {
            (await app.TokenAsync(("grant_type", "refresh_token"), ("refresh_token", "not-a-token"), ("client_id", "0123456789abcdef0123456789abcdef")))
                .Status.ShouldNotBe(HttpStatusCode.TooManyRequests, $"request {i + 1}");
        }

        var (status, problem) = await app.TokenAsync(("grant_type", "refresh_token"), ("refresh_token", "not-a-token"), ("client_id", "0123456789abcdef0123456789abcdef"));

        status.ShouldBe(HttpStatusCode.TooManyRequests);
        problem.GetProperty("status").GetInt32().ShouldBe(429);
    }
}

/// <summary>The hourly pruning of OpenIddict's entries, run once, against stored documents of every kind; the scopes written at start-up.</summary>
public sealed class OAuthPruningTests(AppFixture api) : IClassFixture<AppFixture>
{
    [Fact]
    public async Task Instances_starting_at_once_write_each_scope_once_and_all_start()
    {
        var seeding = api.Services.GetServices<Microsoft.Extensions.Hosting.IHostedService>().OfType<OAuthScopeSeeding>().Single();
        for (var round = 0; round < 3; round++)
        {
            await api.WithDocumentsAsync(session =>
            {
                session.DeleteWhere<OAuthScope>(s => s.Name != null);
                return session.SaveChangesAsync();
            });

            await Race.AtOnceAsync(6, _ => seeding.StartAsync(CancellationToken.None).ContinueWith(t => t.Exception, TaskScheduler.Default))
                .ContinueWith(t => t.Result.ShouldAllBe(e => e == null), TaskScheduler.Default);

            (await api.FindDocumentsAsync<OAuthScope>(s => s.Name != null)).Select(s => s.Name).Order(StringComparer.Ordinal)
                .ShouldBe(OAuthScopes.All.Order(StringComparer.Ordinal), $"round {round}");
        }
    }

    [Fact]
    public async Task Old_entries_that_can_no_longer_be_used_go_and_everything_else_stays()
    {
        var subject = Guid.NewGuid().ToString();
        var old = DateTimeOffset.UtcNow.AddDays(-20);
        OAuthAuthorization Grant(string status, string type) =>
            new() { Id = Guid.CreateVersion7(), Subject = subject, CreationDate = old, Status = status, Type = type, Scopes = ["tasks:read"] };
        OAuthToken Token(string status, DateTimeOffset created, DateTimeOffset expires, Guid? grant = null) =>
            new() { Id = Guid.CreateVersion7(), Subject = subject, CreationDate = created, ExpirationDate = expires, Status = status, Type = "refresh_token", AuthorizationId = grant };
        var revokedGrant = Grant("revoked", "permanent");
        var emptyAdHoc = Grant("valid", "ad-hoc");
        var permanent = Grant("valid", "permanent");
        var usedAdHoc = Grant("valid", "ad-hoc");
        var redeemed = Token("redeemed", old, old.AddDays(14));
        var expired = Token("valid", old, old.AddDays(1));
        var live = Token("valid", old, DateTimeOffset.UtcNow.AddDays(1), usedAdHoc.Id);
        var young = Token("revoked", DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        var underRevokedGrant = Token("valid", old, DateTimeOffset.UtcNow.AddDays(1), revokedGrant.Id);
        await api.WithDocumentsAsync(session =>
        {
            session.Insert(revokedGrant, emptyAdHoc, permanent, usedAdHoc);
            session.Insert(redeemed, expired, live, young, underRevokedGrant);
            return session.SaveChangesAsync();
        });
        var pruning = api.Services.GetServices<Microsoft.Extensions.Hosting.IHostedService>().OfType<OAuthPruning>().Single();

        var (tokens, grants) = await pruning.PruneAsync(CancellationToken.None);

        tokens.ShouldBeGreaterThanOrEqualTo(2);
        grants.ShouldBeGreaterThanOrEqualTo(2);
        (await api.FindDocumentsAsync<OAuthToken>(t => t.Subject == subject)).Select(t => t.Id).Order().ShouldBe(new[] { live.Id, young.Id }.Order());
        (await api.FindDocumentsAsync<OAuthAuthorization>(a => a.Subject == subject)).Select(a => a.Id).Order().ShouldBe(new[] { permanent.Id, usedAdHoc.Id }.Order());
    }
}
