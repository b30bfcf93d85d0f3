using System.Net;
using Microsoft.AspNetCore.Identity;
using SliceApi.Features.Users;
using SliceApi.Infrastructure.Security;
using SliceApi.Tests.Support;

namespace SliceApi.Tests.Features.Users;

/// <summary>
/// Changes to one account that arrive at the same moment (released together, several rounds), against real PostgreSQL:
/// no acknowledged change is lost, and a deleted account is not written back.
/// </summary>
public sealed class UserRaceTests(AppFixture api) : IClassFixture<AppFixture>
{
    private const int Rounds = 8;

    [Fact]
    public async Task A_deactivation_racing_a_password_change_and_a_rename_keeps_every_acknowledged_change()
    {
        var admin = api.ClientFor(await api.CreateUserAsync(AppRoles.Admin));
        for (var round = 0; round < Rounds; round++)
        {
            var user = await api.CreateUserAsync();
            var self = api.ClientFor(user);
            var newPassword = $"a brand new passphrase {round}";

            var responses = await Race.AtOnceAsync(3, i => i switch
            {
                0 => admin.PatchAsJsonAsync($"/api/v1/users/{user.Id}", new { isActive = false }),
                1 => self.PostAsJsonAsync("/api/v1/users/me/password", new { currentPassword = user.Password, newPassword }),
                _ => self.PatchAsJsonAsync($"/api/v1/users/{user.Id}", new { displayName = $"Renamed {round}" }),
            });

            var (deactivated, changed, renamed) = (responses[0].StatusCode(), responses[1].StatusCode(), responses[2].StatusCode());
            deactivated.ShouldBe(HttpStatusCode.OK);
            changed.ShouldBeOneOf(HttpStatusCode.NoContent, HttpStatusCode.Unauthorized); // refused once the account is inactive
            renamed.ShouldBeOneOf(HttpStatusCode.OK, HttpStatusCode.Unauthorized);
            var stored = (await api.FindAsync<User>(u => u.Id == user.Id)).ShouldHaveSingleItem();
            stored.IsActive.ShouldBeFalse($"round {round}: the deactivation was lost ({changed}, {renamed})");
            if (changed == HttpStatusCode.NoContent)
            {
                User.PasswordHasher.VerifyHashedPassword(stored, stored.PasswordHash, newPassword).ShouldNotBe(PasswordVerificationResult.Failed);
            }

            if (renamed == HttpStatusCode.OK)
            {
                stored.DisplayName.ShouldBe($"Renamed {round}");
            }
        }
    }

    [Fact]
    public async Task A_deleted_account_stays_deleted_when_changes_race_the_delete()
    {
        var admin = api.ClientFor(await api.CreateUserAsync(AppRoles.Admin));
        for (var round = 0; round < Rounds; round++)
        {
            var user = await api.CreateUserAsync();
            var url = $"/api/v1/users/{user.Id}";

            var responses = await Race.AtOnceAsync(6, i => i switch
            {
                < 2 => admin.DeleteAsync(url),
                < 4 => admin.PatchAsJsonAsync(url, new { role = "guest", displayName = $"Changed {i}" }),
                _ => api.ClientFor(user).PostAsJsonAsync("/api/v1/users/me/password", new { currentPassword = user.Password, newPassword = "a brand new passphrase" }),
            });

            var statuses = responses.Select(r => r.StatusCode()).ToArray();
            statuses[..2].Count(s => s == HttpStatusCode.NoContent).ShouldBe(1, $"round {round}: {string.Join(", ", statuses)}");
            statuses.ShouldAllBe(s => (int)s < 500);
            (await api.FindAsync<User>(u => u.Id == user.Id)).ShouldBeEmpty($"round {round}: the deleted account came back");
        }
    }
}
