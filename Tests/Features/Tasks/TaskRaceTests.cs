using System.Net;
using SliceApi.Features.Tasks;
using SliceApi.Tests.Support;

namespace SliceApi.Tests.Features.Tasks;

/// <summary>
/// Writes to one task that arrive at the same moment (released together through a barrier, several rounds), against
/// real PostgreSQL: a deleted task stays deleted, one ETag admits one write, and changes that do not conflict are all kept.
/// </summary>
public sealed class TaskRaceTests(AppFixture api) : IClassFixture<AppFixture>
{
    private const int Rounds = 10;

    [Fact]
    public async Task Deletes_racing_updates_leave_the_task_deleted_and_every_answer_a_404_or_a_success()
    {
        var user = await api.CreateUserAsync();
        var client = api.ClientFor(user);
        for (var round = 0; round < Rounds; round++)
        {
            var task = await api.CreateTaskAsync(user.Id, $"Round {round}");
            var url = $"/api/v1/tasks/{task.Id}";

            // 3 DELETEs, 3 PUTs, 2 merge patches and 2 status changes, all at once.
            var responses = await Race.AtOnceAsync(10, i => client.Scenario(s =>
            {
                switch (i)
                {
                    case < 3: s.Delete.Url(url); break;
                    case < 6: s.Put.Json(new { title = $"Put {i}" }).ToUrl(url); break;
                    case < 8: s.Patch.Json(new { description = $"Patch {i}" }).ContentType("application/merge-patch+json").ToUrl(url); break;
                    default: s.Put.Json(new { status = "done" }).ToUrl($"{url}/status"); break;
                }

                s.IgnoreStatusCode();
            }));

            var deletes = responses[..3].Select(r => r.StatusCode()).ToArray();
            var updates = responses[3..].Select(r => r.StatusCode()).ToArray();
            deletes.Count(s => s == HttpStatusCode.NoContent).ShouldBe(1, $"round {round}: one DELETE deletes ({string.Join(", ", deletes)})");
            deletes.ShouldAllBe(s => s == HttpStatusCode.NoContent || s == HttpStatusCode.NotFound);
            updates.ShouldAllBe(s => s == HttpStatusCode.OK || s == HttpStatusCode.NotFound, $"round {round}: {string.Join(", ", updates)}");
            (await api.FindAsync<TaskItem>(t => t.Id == task.Id)).ShouldBeEmpty($"round {round}: the deleted task came back");
            await client.GetAsync(url).ShouldBeProblemAsync(HttpStatusCode.NotFound);
        }
    }

    [Fact]
    public async Task Many_puts_with_one_if_match_admit_exactly_one_and_refuse_the_rest_with_412()
    {
        var user = await api.CreateUserAsync();
        var client = api.ClientFor(user);
        for (var round = 0; round < Rounds; round++)
        {
            var task = await api.CreateTaskAsync(user.Id, $"Contended {round}");
            var etag = (await client.GetAsync($"/api/v1/tasks/{task.Id}")).ETag()!.ToString();

            var responses = await Race.AtOnceAsync(8, i => client.Scenario(s =>
            {
                s.Put.Json(new { title = $"Writer {i}" }).ToUrl($"/api/v1/tasks/{task.Id}");
                s.WithRequestHeader("If-Match", etag);
                s.IgnoreStatusCode();
            }));

            var winners = responses.Where(r => r.StatusCode() == HttpStatusCode.OK).ToArray();
            winners.Length.ShouldBe(1, $"round {round}: {string.Join(", ", responses.Select(r => r.StatusCode()))}");
            responses.Count(r => r.StatusCode() == HttpStatusCode.PreconditionFailed).ShouldBe(7);
            var stored = (await api.FindAsync<TaskItem>(t => t.Id == task.Id)).ShouldHaveSingleItem();
            stored.Title.ShouldBe((await winners[0].ReadAsJsonAsync<TaskResponse>())!.Title);
            winners[0].ETag()!.ToString().ShouldBe(TaskETag.Format(stored.Version));
        }
    }

    [Fact]
    public async Task Concurrent_merge_patches_of_different_members_without_if_match_all_take_effect()
    {
        var user = await api.CreateUserAsync();
        var assignee = await api.CreateUserAsync();
        var client = api.ClientFor(user);
        for (var round = 0; round < Rounds; round++)
        {
            var task = await api.CreateTaskAsync(user.Id, "Before");
            var patches = new object[]
            {
                new { title = $"Title {round}" },
                new { description = $"Description {round}" },
                new { dueAt = "2027-01-02T03:04:05Z" },
                new { status = "in_progress" },
                new { assigneeId = assignee.Id },
            };

            var responses = await Race.AtOnceAsync(patches.Length, i => client.Scenario(s =>
            {
                s.Patch.Json(patches[i]).ContentType("application/merge-patch+json").ToUrl($"/api/v1/tasks/{task.Id}");
                s.IgnoreStatusCode();
            }));

            responses.Select(r => r.StatusCode()).ShouldAllBe(s => s == HttpStatusCode.OK, $"round {round}");
            var stored = (await api.FindAsync<TaskItem>(t => t.Id == task.Id)).ShouldHaveSingleItem();
            stored.Title.ShouldBe($"Title {round}");
            stored.Description.ShouldBe($"Description {round}");
            stored.DueAt.ShouldBe(DateTimeOffset.Parse("2027-01-02T03:04:05Z", System.Globalization.CultureInfo.InvariantCulture));
            stored.Status.ShouldBe(TaskItemStatus.InProgress);
            stored.AssigneeId.ShouldBe(assignee.Id);
            stored.Version.ShouldBe(1 + patches.Length, "each patch is one revision");
        }
    }
}
