using System.Net;
using System.Text.RegularExpressions;
using SliceApi.Features.Tasks;
using SliceApi.Infrastructure.Security;
using SliceApi.Tests.Support;

namespace SliceApi.Tests.Features.Tasks;

/// <summary>GET /api/v1/tasks: filters, sorts, keyset cursors under concurrent writes, and the Link header.</summary>
public sealed partial class ListTasksQueryTests(AppFixture api) : IClassFixture<AppFixture>
{
    private static readonly DateTimeOffset Noon = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task Status_is_repeatable_and_matches_any_of_the_values()
    {
        var user = await api.CreateUserAsync();
        var todo = await api.CreateTaskAsync(user.Id, "open", TaskItemStatus.Todo);
        var done = await api.CreateTaskAsync(user.Id, "finished", TaskItemStatus.Done);
        await api.CreateTaskAsync(user.Id, "busy", TaskItemStatus.InProgress);

        var page = await api.ClientFor(user).GetAsync("/api/v1/tasks?status=todo&status=done").ShouldReturnAsync<ListTasksResponse>();

        page.Items.Select(t => t.Id).Order().ShouldBe(new[] { todo.Id, done.Id }.Order());
    }

    [Fact]
    public async Task DueAfter_is_inclusive_and_dueBefore_exclusive_and_tasks_without_a_deadline_never_match()
    {
        var user = await api.CreateUserAsync();
        await api.CreateTaskAsync(user.Id, "early", dueAt: Noon.AddHours(-1));
        var atStart = await api.CreateTaskAsync(user.Id, "at start", dueAt: Noon);
        var inside = await api.CreateTaskAsync(user.Id, "inside", dueAt: Noon.AddHours(1));
        await api.CreateTaskAsync(user.Id, "at end", dueAt: Noon.AddHours(2));
        await api.CreateTaskAsync(user.Id, "no deadline");
        var client = api.ClientFor(user);

        var window = await client.GetAsync("/api/v1/tasks?dueAfter=2026-12-01T12:00:00Z&dueBefore=2026-12-01T15:00:00%2B01:00&sort=dueAt")
            .ShouldReturnAsync<ListTasksResponse>();
        var before = await client.GetAsync("/api/v1/tasks?dueBefore=2026-12-01T12:00:00Z").ShouldReturnAsync<ListTasksResponse>();
        var after = await client.GetAsync("/api/v1/tasks?dueAfter=2026-12-01T14:00:00Z").ShouldReturnAsync<ListTasksResponse>();

        window.Items.Select(t => t.Title).ShouldBe(["at start", "inside"]);
        window.Items[0].Id.ShouldBe(atStart.Id);
        window.Items[1].Id.ShouldBe(inside.Id);
        before.Items.Select(t => t.Title).ShouldBe(["early"]);
        after.Items.Select(t => t.Title).ShouldBe(["at end"]);
    }

    [Fact]
    public async Task AssigneeId_returns_only_the_tasks_assigned_to_that_user()
    {
        var owner = await api.CreateUserAsync();
        var helper = await api.CreateUserAsync();
        var assigned = await api.CreateTaskAsync(owner.Id, "for the helper", assigneeId: helper.Id);
        await api.CreateTaskAsync(owner.Id, "unassigned");
        await api.CreateTaskAsync(owner.Id, "for someone else", assigneeId: (await api.CreateUserAsync()).Id);

        var page = await api.ClientFor(owner).GetAsync($"/api/v1/tasks?assigneeId={helper.Id}").ShouldReturnAsync<ListTasksResponse>();

        page.Items.ShouldHaveSingleItem().Id.ShouldBe(assigned.Id);
    }

    [Fact]
    public async Task Q_searches_title_and_description_ignoring_case()
    {
        var user = await api.CreateUserAsync();
        var inTitle = await api.CreateTaskAsync(user.Id, "Quarterly INVOICE run");
        var inDescription = await api.CreateTaskAsync(user.Id, "Pay suppliers", description: "Check every invoice twice");
        await api.CreateTaskAsync(user.Id, "Unrelated", description: "nothing to see");
        await api.CreateTaskAsync((await api.CreateUserAsync()).Id, "Someone else's invoice");

        var page = await api.ClientFor(user).GetAsync("/api/v1/tasks?q=Invoice").ShouldReturnAsync<ListTasksResponse>();

        page.Items.Select(t => t.Id).Order().ShouldBe(new[] { inTitle.Id, inDescription.Id }.Order());
    }

    [Theory]
    [InlineData("100%", "Raise to 100%")]
    [InlineData("a_b", "rename a_b")]
    [InlineData(@"c:\temp", @"clean c:\temp")]
    public async Task Q_matches_like_wildcards_literally(string q, string expectedTitle)
    {
        var user = await api.CreateUserAsync();
        await api.CreateTaskAsync(user.Id, "Raise to 1000 now");
        await api.CreateTaskAsync(user.Id, "Raise to 100%");
        await api.CreateTaskAsync(user.Id, "rename axb");
        await api.CreateTaskAsync(user.Id, "rename a_b");
        await api.CreateTaskAsync(user.Id, @"clean c:\temp");
        await api.CreateTaskAsync(user.Id, @"clean c:temp");

        var page = await api.ClientFor(user).GetAsync($"/api/v1/tasks?q={Uri.EscapeDataString(q)}").ShouldReturnAsync<ListTasksResponse>();

        page.Items.ShouldHaveSingleItem().Title.ShouldBe(expectedTitle);
    }

    [Theory]
    [InlineData("createdAt")]
    [InlineData("-createdAt")]
    [InlineData("dueAt")]
    [InlineData("-dueAt")]
    [InlineData("title")]
    [InlineData("-title")]
    public async Task Every_sort_pages_through_all_tasks_in_order_with_id_breaking_ties(string sort)
    {
        var user = await api.CreateUserAsync();
        var tasks = new List<TaskItem>();
        string[] titles = ["delta", "alpha", "charlie", "alpha", "bravo", "alpha", "echo"];
        DateTimeOffset?[] deadlines = [Noon, null, Noon.AddDays(1), Noon, null, Noon.AddDays(-1), Noon];
        for (var i = 0; i < titles.Length; i++)
        {
            tasks.Add(await api.CreateTaskAsync(user.Id, titles[i], dueAt: deadlines[i]));
        }

        var seen = await PageAllAsync(api.ClientFor(user), $"/api/v1/tasks?limit=2&sort={sort}");

        seen.Select(t => t.Id).ShouldBe(Expected(tasks, sort).Select(t => t.Id));
    }

    [Fact]
    public async Task The_link_header_names_the_next_page_with_every_other_parameter_kept()
    {
        var user = await api.CreateUserAsync();
        for (var i = 0; i < 3; i++)
        {
            await api.CreateTaskAsync(user.Id, $"report {i}", TaskItemStatus.Todo);
        }

        var response = await api.ClientFor(user).GetAsync("/api/v1/tasks?status=todo&q=report&limit=2&sort=title");
        var page = await response.ShouldReturnAsync<ListTasksResponse>();
        var last = await api.ClientFor(user).GetAsync(NextLink(response)!);

        NextLink(response).ShouldBe($"/api/v1/tasks?status=todo&q=report&limit=2&sort=title&cursor={page.NextCursor}");
        (await last.ShouldReturnAsync<ListTasksResponse>()).Items.ShouldHaveSingleItem().Title.ShouldBe("report 2");
        last.HasHeader("Link").ShouldBeFalse();
    }

    [Fact]
    public async Task Paging_neither_skips_nor_repeats_tasks_while_others_are_inserted_and_deleted()
    {
        var user = await api.CreateUserAsync();
        var client = api.ClientFor(user);
        var original = new List<TaskItem>();
        foreach (var title in new[] { "b", "d", "f", "h", "j", "l", "n", "p", "r", "t" })
        {
            original.Add(await api.CreateTaskAsync(user.Id, title));
        }

        var deleted = new HashSet<Guid>();
        var seen = new List<TaskResponse>();
        var url = "/api/v1/tasks?limit=3&sort=title";
        for (var round = 0; url is not null; round++)
        {
            var response = await client.GetAsync(url);
            seen.AddRange((await response.ShouldReturnAsync<ListTasksResponse>()).Items);
            url = NextLink(response);

            // Between pages: insert before and after the position, delete one task not yet seen and one already seen.
            await api.CreateTaskAsync(user.Id, "a" + round);
            await api.CreateTaskAsync(user.Id, "z" + round);
            var unseen = original.LastOrDefault(t => !deleted.Contains(t.Id) && seen.All(s => s.Id != t.Id) && t.Title != "r");
            foreach (var victim in new[] { unseen?.Id, seen[0].Id }.OfType<Guid>().Where(deleted.Add))
            {
                (await client.DeleteAsync($"/api/v1/tasks/{victim}")).StatusCode().ShouldBe(HttpStatusCode.NoContent);
            }
        }

        var seenIds = seen.Select(t => t.Id).ToList();
        seenIds.ShouldBeUnique();
        seenIds.ShouldContain(original.Single(t => t.Title == "r").Id); // present throughout, so it must be listed
        original.Where(t => !deleted.Contains(t.Id)).Select(t => t.Id).ShouldBeSubsetOf(seenIds);
        seen.Select(t => t.Title).ShouldBe(seen.Select(t => t.Title).Order(StringComparer.Ordinal));
        seen.ShouldAllBe(t => t.Title.Length == 1 || t.Title.StartsWith('z'));
    }

    [Fact]
    public async Task A_cursor_sent_with_another_sort_is_a_400_naming_cursor()
    {
        var user = await api.CreateUserAsync();
        await api.CreateTaskAsync(user.Id, "one");
        await api.CreateTaskAsync(user.Id, "two");
        var client = api.ClientFor(user);
        var page = await client.GetAsync("/api/v1/tasks?limit=1&sort=title").ShouldReturnAsync<ListTasksResponse>();

        var problem = await client.GetAsync($"/api/v1/tasks?limit=1&sort=-title&cursor={page.NextCursor}")
            .ShouldBeProblemAsync(HttpStatusCode.BadRequest, "cursor");

        problem.GetProperty("errors").GetProperty("cursor")[0].GetString()!.ShouldContain("sort=title");
    }

    [Fact]
    public async Task A_guest_filtering_by_another_assignee_sees_nothing()
    {
        var guest = await api.CreateUserAsync(AppRoles.Guest);
        var other = await api.CreateUserAsync();
        await api.CreateTaskAsync(other.Id, "not for the guest", assigneeId: other.Id);

        var page = await api.ClientFor(guest).GetAsync($"/api/v1/tasks?assigneeId={other.Id}").ShouldReturnAsync<ListTasksResponse>();

        page.Items.ShouldBeEmpty();
    }

    [Fact]
    public async Task An_unknown_query_parameter_is_a_400_naming_it_and_listing_the_known_ones()
    {
        var client = api.ClientFor(await api.CreateUserAsync());

        var problem = await client.GetAsync("/api/v1/tasks?stauts=done").ShouldBeProblemAsync(HttpStatusCode.BadRequest, "stauts");

        problem.GetProperty("errors").GetProperty("stauts")[0].GetString()!.ShouldContain("status");
    }

    [Fact]
    public async Task A_search_text_over_200_characters_is_a_400_naming_q()
    {
        var client = api.ClientFor(await api.CreateUserAsync());

        await client.GetAsync($"/api/v1/tasks?q={new string('x', 201)}").ShouldBeProblemAsync(HttpStatusCode.BadRequest, "q");
    }

    private static async Task<List<TaskResponse>> PageAllAsync(ScenarioClient client, string firstPage)
    {
        var all = new List<TaskResponse>();
        for (string? url = firstPage; url is not null;)
        {
            var response = await client.GetAsync(url);
            var page = await response.ShouldReturnAsync<ListTasksResponse>();
            all.AddRange(page.Items);
            url = NextLink(response);
            (url is null).ShouldBe(page.NextCursor is null);
        }

        return all;
    }

    private static string? NextLink(IScenarioResult response) =>
        NextRelation().Match(string.Join(",", response.Header("Link"))) is { Success: true } match
            ? match.Groups["target"].Value
            : null;

    // The order the API promises, computed here: ties by id, which PostgreSQL compares as bytes, the ordinal
    // order of the canonical strings; a missing deadline sorts as the latest.
    private static IEnumerable<TaskItem> Expected(IEnumerable<TaskItem> tasks, string sort)
    {
        var descending = sort.StartsWith('-');
        Func<TaskItem, IComparable> key = sort.TrimStart('-') switch
        {
            "createdAt" => t => t.CreatedAt,
            "dueAt" => t => t.DueAt ?? DateTimeOffset.MaxValue,
            _ => t => t.Title,
        };
        var ordered = descending
            ? tasks.OrderByDescending(key).ThenByDescending(t => t.Id.ToString(), StringComparer.Ordinal)
            : tasks.OrderBy(key).ThenBy(t => t.Id.ToString(), StringComparer.Ordinal);
        return ordered;
    }

    [GeneratedRegex("<(?<target>[^>]+)>;\\s*rel=\"next\"")]
    private static partial Regex NextRelation();
}
