using System.Net;
using Microsoft.Extensions.DependencyInjection;
using OpenIddict.Core;
using SliceApi.Features.OAuth;
using SliceApi.Infrastructure.Security;
using SliceApi.Tests.Support;

namespace SliceApi.Tests.Features.OAuth;

public sealed class OAuthAppTests(AppFixture api) : IClassFixture<AppFixture>
{
    private static string[] Uris(params string[] uris) => uris;

    private static object App(string clientType = "confidential", params string[] redirectUris) =>
        new { name = " Calendar sync ", clientType, redirectUris = redirectUris.Length == 0 ? ["https://calendar.example.com/callback"] : redirectUris };

    [Fact]
    public async Task A_confidential_app_gets_its_secret_once_and_only_openiddicts_hash_of_it_is_stored()
    {
        var user = await api.CreateUserAsync();
        var client = api.ClientFor(user);

        var response = await client.PostAsJsonAsync("/api/v1/oauth/apps", App("confidential", "https://calendar.example.com/callback", "http://127.0.0.1:7777/cb"));

        var created = await Task.FromResult(response).ShouldReturnAsync<CreateOAuthAppResponse>(HttpStatusCode.Created);
        response.Location()!.ToString().ShouldBe($"/api/v1/oauth/apps/{created.App.Id}");
        response.CacheControl()!.NoStore.ShouldBeTrue();
        created.ClientSecret.ShouldNotBeNull().ShouldStartWith("cs_");
        created.App.Name.ShouldBe("Calendar sync");
        created.App.ClientType.ShouldBe("confidential");
        created.App.OwnerId.ShouldBe(user.Id);
        created.App.ClientId.Length.ShouldBe(32);
        created.App.RedirectUris.Select(u => u.ToString()).ShouldBe(["http://127.0.0.1:7777/cb", "https://calendar.example.com/callback"]);
        var stored = (await api.FindDocumentsAsync<OAuthApplication>(a => a.OwnerId == user.Id)).ShouldHaveSingleItem();
        stored.ClientSecret.ShouldNotBeNull().ShouldNotContain(created.ClientSecret);
        stored.Requirements.ShouldContain("ft:pkce");
        stored.Permissions.ShouldNotContain("gt:password");
        stored.Permissions.ShouldNotContain("gt:implicit");
        await using (var scope = api.Services.CreateAsyncScope())
        {
            var apps = scope.ServiceProvider.GetRequiredService<OpenIddictApplicationManager<OAuthApplication>>();
            var found = (await apps.FindByClientIdAsync(created.App.ClientId, CancellationToken.None)).ShouldNotBeNull();
            (await apps.ValidateClientSecretAsync(found, created.ClientSecret, CancellationToken.None)).ShouldBeTrue();
            (await apps.ValidateClientSecretAsync(found, created.ClientSecret + "x", CancellationToken.None)).ShouldBeFalse();
            (await apps.ValidateRedirectUriAsync(found, "https://calendar.example.com/callbacK", CancellationToken.None)).ShouldBeFalse();
        }

        var text = await (await client.GetAsync("/api/v1/oauth/apps").ShouldHaveStatusAsync(HttpStatusCode.OK)).ReadAsTextAsync();
        text.ShouldContain(created.App.ClientId);
        text.ShouldNotContain(created.ClientSecret);
        (await client.GetAsync($"/api/v1/oauth/apps/{created.App.Id}").ShouldReturnAsync<OAuthAppResponse>()).ShouldBeEquivalentTo(created.App);
    }

    [Fact]
    public async Task A_public_app_gets_no_secret()
    {
        var client = api.ClientFor(await api.CreateUserAsync());

        var created = await client.PostAsJsonAsync("/api/v1/oauth/apps", App("public", "http://[::1]:9000/cb")).ShouldReturnAsync<CreateOAuthAppResponse>(HttpStatusCode.Created);

        created.ClientSecret.ShouldBeNull();
        created.App.ClientType.ShouldBe("public");
    }

    [Theory]
    [InlineData("http://calendar.example.com/callback")] // plain http off the loopback address
    [InlineData("https://calendar.example.com/callback#done")] // a fragment (RFC 6749 section 3.1.2)
    [InlineData("/callback")] // relative
    [InlineData("http://localhost:8080/cb")] // RFC 8252 section 8.3: the loopback IP, not localhost
    [InlineData("https://user:pass@calendar.example.com/cb")]
    [InlineData("calendar://callback")]
    public async Task A_redirect_uri_outside_the_rules_is_a_400_naming_redirectUris_and_stores_nothing(string redirectUri)
    {
        var user = await api.CreateUserAsync();

        var problem = await api.ClientFor(user).PostAsJsonAsync("/api/v1/oauth/apps", App("public", redirectUri)).ShouldBeProblemAsync(HttpStatusCode.BadRequest);

        problem.GetProperty("errors").TryGetProperty("redirectUris", out _).ShouldBeTrue(problem.ToString());
        (await api.FindDocumentsAsync<OAuthApplication>(a => a.OwnerId == user.Id)).ShouldBeEmpty();
    }

    [Fact]
    public async Task Another_users_app_is_404_to_read_and_delete_and_an_admin_may_do_both()
    {
        var owner = await api.CreateUserAsync();
        var created = await api.ClientFor(owner).PostAsJsonAsync("/api/v1/oauth/apps", App()).ShouldReturnAsync<CreateOAuthAppResponse>(HttpStatusCode.Created);
        var other = api.ClientFor(await api.CreateUserAsync());
        var admin = api.ClientFor(await api.CreateUserAsync(AppRoles.Admin));

        await other.GetAsync($"/api/v1/oauth/apps/{created.App.Id}").ShouldBeProblemAsync(HttpStatusCode.NotFound);
        await other.DeleteAsync($"/api/v1/oauth/apps/{created.App.Id}").ShouldBeProblemAsync(HttpStatusCode.NotFound);
        (await other.GetAsync("/api/v1/oauth/apps").ShouldReturnAsync<List<OAuthAppResponse>>()).ShouldBeEmpty();
        (await admin.GetAsync($"/api/v1/oauth/apps/{created.App.Id}").ShouldReturnAsync<OAuthAppResponse>()).Id.ShouldBe(created.App.Id);
        await admin.DeleteAsync($"/api/v1/oauth/apps/{created.App.Id}").ShouldHaveStatusAsync(HttpStatusCode.NoContent);

        await api.ClientFor(owner).GetAsync($"/api/v1/oauth/apps/{created.App.Id}").ShouldBeProblemAsync(HttpStatusCode.NotFound);
        await using var scope = api.Services.CreateAsyncScope();
        (await scope.ServiceProvider.GetRequiredService<OpenIddictApplicationManager<OAuthApplication>>()
            .FindByClientIdAsync(created.App.ClientId, CancellationToken.None)).ShouldBeNull();
    }

    [Fact]
    public async Task Many_deletes_of_one_app_at_once_answer_one_204_and_the_rest_404()
    {
        for (var round = 0; round < 5; round++)
        {
            var owner = await api.CreateUserAsync();
            var client = api.ClientFor(owner);
            var created = await client.PostAsJsonAsync("/api/v1/oauth/apps", App()).ShouldReturnAsync<CreateOAuthAppResponse>(HttpStatusCode.Created);

            var statuses = await Race.AtOnceAsync(8, _ => client.DeleteAsync($"/api/v1/oauth/apps/{created.App.Id}").ContinueWith(t => t.Result.StatusCode()));

            statuses.Count(s => s == HttpStatusCode.NoContent).ShouldBe(1, $"round {round}: {string.Join(", ", statuses)}");
            statuses.Count(s => s == HttpStatusCode.NotFound).ShouldBe(7, $"round {round}: {string.Join(", ", statuses)}");
        }
    }

    [Fact]
    public async Task A_burst_of_creates_never_passes_the_limit_of_apps_per_user()
    {
        for (var round = 0; round < 3; round++)
        {
            var owner = await api.CreateUserAsync();
            var client = api.ClientFor(owner);
            for (var i = 0; i < OAuthApplication.MaxPerUser - 3; i++)
            {
                await client.PostAsJsonAsync("/api/v1/oauth/apps", App()).ShouldHaveStatusAsync(HttpStatusCode.Created);
            }

            var statuses = await Race.AtOnceAsync(10, _ => client.PostAsJsonAsync("/api/v1/oauth/apps", App()).ContinueWith(t => t.Result.StatusCode()));

            statuses.Count(s => s == HttpStatusCode.Created).ShouldBe(3, $"round {round}: {string.Join(", ", statuses)}");
            statuses.Count(s => s == HttpStatusCode.Conflict).ShouldBe(7, $"round {round}: {string.Join(", ", statuses)}");
            (await api.FindDocumentsAsync<OAuthApplication>(a => a.OwnerId == owner.Id)).Count.ShouldBe(OAuthApplication.MaxPerUser);
        }
    }

    [Fact]
    public async Task The_owner_or_an_admin_changes_an_apps_name_and_redirect_uris_and_the_old_uri_stops_working()
    {
        var owner = await api.CreateUserAsync();
        var admin = await api.CreateUserAsync(AppRoles.Admin);
        var created = await api.ClientFor(owner).PostAsJsonAsync("/api/v1/oauth/apps", App()).ShouldReturnAsync<CreateOAuthAppResponse>(HttpStatusCode.Created);
        var url = $"/api/v1/oauth/apps/{created.App.Id}";

        var changed = await api.ClientFor(owner).PutAsJsonAsync(url, new { name = " Calendar sync 2 ", redirectUris = Uris("http://127.0.0.1:9000/cb") })
            .ShouldReturnAsync<OAuthAppResponse>();

        changed.Name.ShouldBe("Calendar sync 2");
        changed.ClientId.ShouldBe(created.App.ClientId);
        changed.ClientType.ShouldBe("confidential");
        changed.RedirectUris.Select(u => u.ToString()).ShouldBe(["http://127.0.0.1:9000/cb"]);
        (await api.ClientFor(owner).GetAsync(url).ShouldReturnAsync<OAuthAppResponse>()).ShouldBeEquivalentTo(changed);
        await using (var scope = api.Services.CreateAsyncScope())
        {
            var apps = scope.ServiceProvider.GetRequiredService<OpenIddictApplicationManager<OAuthApplication>>();
            var found = (await apps.FindByClientIdAsync(created.App.ClientId, CancellationToken.None)).ShouldNotBeNull();
            (await apps.ValidateRedirectUriAsync(found, "https://calendar.example.com/callback", CancellationToken.None)).ShouldBeFalse();
            (await apps.ValidateRedirectUriAsync(found, "http://127.0.0.1:9000/cb", CancellationToken.None)).ShouldBeTrue();
            (await apps.ValidateClientSecretAsync(found, created.ClientSecret!, CancellationToken.None)).ShouldBeTrue("the secret stays");
        }

        await api.ClientFor(admin).PutAsJsonAsync(url, new { name = "Renamed by an admin", redirectUris = Uris("https://a.example.com/cb") }).ShouldHaveStatusAsync(HttpStatusCode.OK);
        await api.ClientFor(await api.CreateUserAsync()).PutAsJsonAsync(url, new { name = "x", redirectUris = Uris("https://a.example.com/cb") })
            .ShouldBeProblemAsync(HttpStatusCode.NotFound);
        await api.ClientFor(owner).PutAsJsonAsync(url, new { name = "x", redirectUris = Uris("http://example.com/cb") })
            .ShouldBeProblemAsync(HttpStatusCode.BadRequest, "redirectUris");
        await api.ClientFor(owner).PutAsJsonAsync($"/api/v1/oauth/apps/{Guid.NewGuid()}", new { name = "x", redirectUris = Uris("https://a.example.com/cb") })
            .ShouldBeProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Concurrent_changes_of_one_app_each_land_whole_or_get_a_409()
    {
        var owner = await api.CreateUserAsync();
        var client = api.ClientFor(owner);
        for (var round = 0; round < 3; round++)
        {
            var created = await client.PostAsJsonAsync("/api/v1/oauth/apps", App()).ShouldReturnAsync<CreateOAuthAppResponse>(HttpStatusCode.Created);

            var results = await Race.AtOnceAsync(6, i => client.PutAsJsonAsync($"/api/v1/oauth/apps/{created.App.Id}",
                new { name = $"name {i}", redirectUris = new[] { $"https://app{i}.example.com/cb" } }));

            results.ShouldAllBe(r => r.StatusCode() == HttpStatusCode.OK || r.StatusCode() == HttpStatusCode.Conflict);
            var stored = (await api.FindDocumentsAsync<OAuthApplication>(a => a.Id == created.App.Id)).ShouldHaveSingleItem();
            var winner = int.Parse(stored.DisplayName!["name ".Length..], System.Globalization.CultureInfo.InvariantCulture);
            stored.RedirectUris.ShouldBe([$"https://app{winner}.example.com/cb"], "name and redirect URIs come from the same request");
            results[winner].StatusCode().ShouldBe(HttpStatusCode.OK, $"round {round}");
        }
    }

    [Fact]
    public async Task A_delete_racing_changes_of_the_app_is_never_lost_and_never_resurrected()
    {
        var owner = await api.CreateUserAsync();
        var client = api.ClientFor(owner);
        for (var round = 0; round < 3; round++)
        {
            var created = await client.PostAsJsonAsync("/api/v1/oauth/apps", App()).ShouldReturnAsync<CreateOAuthAppResponse>(HttpStatusCode.Created);
            var url = $"/api/v1/oauth/apps/{created.App.Id}";

            var results = await Race.AtOnceAsync(6, i => i == 0
                ? client.DeleteAsync(url)
                : client.PutAsJsonAsync(url, new { name = $"name {i}", redirectUris = Uris($"https://app{i}.example.com/cb") }));

            results[0].StatusCode().ShouldBeOneOf(HttpStatusCode.NoContent, HttpStatusCode.Conflict);
            results.Skip(1).ShouldAllBe(r => r.StatusCode() == HttpStatusCode.OK || r.StatusCode() == HttpStatusCode.Conflict || r.StatusCode() == HttpStatusCode.NotFound);
            var stored = await api.FindDocumentsAsync<OAuthApplication>(a => a.Id == created.App.Id);
            stored.Count.ShouldBe(results[0].StatusCode() == HttpStatusCode.NoContent ? 0 : 1, $"round {round}");
        }
    }

    [Fact]
    public async Task An_admin_pages_through_every_app_and_others_may_not()
    {
        var admin = await api.CreateUserAsync(AppRoles.Admin);
        var first = await api.CreateUserAsync();
        var second = await api.CreateUserAsync();
        var ids = new List<Guid>();
        foreach (var owner in new[] { first, second, first })
        {
            ids.Add((await api.ClientFor(owner).PostAsJsonAsync("/api/v1/oauth/apps", App()).ShouldReturnAsync<CreateOAuthAppResponse>(HttpStatusCode.Created)).App.Id);
        }

        var seen = new List<Guid>();
        var url = "/api/v1/oauth/apps/all?limit=1";
        for (var pages = 0; pages < 3; pages++)
        {
            var page = await api.ClientFor(admin).GetAsync(url).ShouldHaveStatusAsync(HttpStatusCode.OK);
            var body = await page.ReadAsJsonAsync<ListAllOAuthAppsResponse>();
            seen.AddRange(body.Items.Select(a => a.Id));
            body.NextCursor.ShouldNotBeNull();
            url = $"/api/v1/oauth/apps/all?limit=1&cursor={body.NextCursor}";
        }

        seen.ShouldBe([ids[2], ids[1], ids[0]], "newest first, across owners");
        await api.ClientFor(first).GetAsync("/api/v1/oauth/apps/all").ShouldBeProblemAsync(HttpStatusCode.Forbidden);
        await api.ClientFor(admin).GetAsync("/api/v1/oauth/apps/all?limit=0").ShouldBeProblemAsync(HttpStatusCode.BadRequest, "limit");
    }
}
