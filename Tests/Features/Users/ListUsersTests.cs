using System.Net;
using SliceApi.Features.Users;
using SliceApi.Infrastructure.Security;
using SliceApi.Tests.Support;

namespace SliceApi.Tests.Features.Users;

public sealed class ListUsersTests(AppFixture api) : IClassFixture<AppFixture>
{
    [Fact]
    public async Task An_admin_pages_through_every_account_without_repeats()
    {
        var created = new List<TestUser>();
        for (var i = 0; i < 5; i++)
        {
            created.Add(await api.CreateUserAsync());
        }

        var admin = api.ClientFor(await api.CreateUserAsync(AppRoles.Admin));
        var seen = new List<UserResponse>();
        string? cursor = null;
        do
        {
            var page = await admin.GetAsync($"/api/v1/users?limit=2{(cursor is null ? "" : "&cursor=" + cursor)}").ShouldReturnAsync<ListUsersResponse>();
            page.Items.Count.ShouldBeLessThanOrEqualTo(2);
            seen.AddRange(page.Items);
            cursor = page.NextCursor;
        }
        while (cursor is not null);

        seen.Select(u => u.Id).ShouldBeUnique();
        seen.Select(u => u.Id).ShouldBe(seen.OrderByDescending(u => u.CreatedAt).ThenByDescending(u => u.Id.ToString(), StringComparer.Ordinal).Select(u => u.Id));
        foreach (var user in created)
        {
            seen.Select(u => u.Id).ShouldContain(user.Id);
        }
    }

    [Theory]
    [InlineData(AppRoles.User)]
    [InlineData(AppRoles.Guest)]
    public async Task Listing_accounts_without_the_admin_role_returns_403(string role)
    {
        await api.ClientFor(await api.CreateUserAsync(role)).GetAsync("/api/v1/users").ShouldBeProblemAsync(HttpStatusCode.Forbidden);
    }

    [Theory]
    [InlineData("limit=0", "limit")]
    [InlineData("cursor=nope", "cursor")]
    public async Task An_invalid_query_is_a_validation_problem(string query, string errorKey)
    {
        await api.ClientFor(await api.CreateUserAsync(AppRoles.Admin)).GetAsync($"/api/v1/users?{query}").ShouldBeProblemAsync(HttpStatusCode.BadRequest, errorKey);
    }
}
