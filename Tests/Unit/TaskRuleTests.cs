using System.Security.Claims;
using FluentValidation.TestHelper;
using Microsoft.AspNetCore.Http;
using SliceApi.Features.Tasks;
using SliceApi.Infrastructure.Security;

namespace SliceApi.Tests.Unit;

/// <summary>The tasks area's pure rules, without a host or a database: milliseconds each.</summary>
public sealed class TaskRuleTests
{
    private static readonly Guid Owner = Guid.CreateVersion7();
    private static readonly Guid Assignee = Guid.CreateVersion7();

    [Theory]
    [InlineData("Pay rent", true)]
    [InlineData("", false)]
    [InlineData("   ", false)]
    public void Create_task_validator_needs_a_title_that_is_not_blank(string title, bool valid)
    {
        var result = new CreateTaskValidator().TestValidate(new CreateTaskRequest { Title = title });

        if (valid)
        {
            result.ShouldNotHaveAnyValidationErrors();
        }
        else
        {
            result.ShouldHaveValidationErrorFor(r => r.Title);
        }
    }

    [Fact]
    public void Create_task_validator_bounds_title_and_description()
    {
        var result = new CreateTaskValidator().TestValidate(new CreateTaskRequest { Title = new string('t', 201), Description = new string('d', 4001) });

        result.ShouldHaveValidationErrorFor(r => r.Title);
        result.ShouldHaveValidationErrorFor(r => r.Description);
    }

    [Theory]
    [InlineData("-createdAt", "-createdAt")]
    [InlineData("title", "title")]
    [InlineData("-dueAt", "-dueAt")]
    [InlineData("priority", null)]
    [InlineData("createdAt,title", null)]
    public void Sort_names_parse_to_their_field_and_direction(string? text, string? expected)
    {
        var sort = TaskSort.Parse(text);

        if (expected is null)
        {
            sort.ShouldBeNull();
        }
        else
        {
            sort.ShouldNotBeNull();
            TaskSort.Names[Array.IndexOf(TaskSort.Names, expected)].ShouldBe(expected);
            sort.Value.Descending.ShouldBe(expected.StartsWith('-'));
        }
    }

    [Theory]
    [InlineData("-createdAt")]
    [InlineData("dueAt")]
    [InlineData("title")]
    public void A_cursor_decodes_to_the_position_it_encodes(string sortName)
    {
        var sort = TaskSort.Parse(sortName)!.Value;
        var task = new TaskResponse(Guid.CreateVersion7(), "Ünïcode title ✓", null, TaskItemStatus.Todo,
            new DateTimeOffset(2027, 1, 2, 3, 4, 5, 123, TimeSpan.Zero), Owner, null, DateTimeOffset.UnixEpoch.AddTicks(123_456_780), DateTimeOffset.UnixEpoch);
        var cursor = TaskListCursor.After(task, sort);

        TaskListCursor.TryDecode(cursor.Encode(), out var decoded).ShouldBeTrue();

        decoded.ShouldBe(cursor);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("not base64url!")]
    [InlineData("AQ")] // the format byte alone
    [InlineData("AgAAAAAAAAAAAAAAAAAAAAAA")] // an unknown format
    public void A_cursor_not_made_by_the_api_is_refused(string? text)
    {
        TaskListCursor.TryDecode(text, out _).ShouldBeFalse();
        TaskListCursor.TryDecode(new string('A', TaskListCursor.MaxTextLength + 4), out _).ShouldBeFalse();
    }

    [Theory]
    [InlineData(null, 3, false)] // no If-Match: nothing to fail
    [InlineData("\"3\"", 3, false)]
    [InlineData("\"2\", \"3\"", 3, false)]
    [InlineData("*", 3, false)]
    [InlineData("\"2\"", 3, true)]
    [InlineData("W/\"3\"", 3, true)] // If-Match compares strongly (RFC 9110 section 13.1.1)
    [InlineData("3", 3, true)] // not an entity tag
    public void If_match_fails_unless_it_names_the_current_revision_strongly(string? ifMatch, long version, bool fails)
    {
        var http = new DefaultHttpContext();
        if (ifMatch is not null)
        {
            http.Request.Headers.IfMatch = ifMatch;
        }

        TaskETag.IfMatchFails(http.Request, version).ShouldBe(fails);
    }

    [Theory]
    [InlineData("\"3\"", 3, true)]
    [InlineData("W/\"3\"", 3, true)] // If-None-Match compares weakly (section 13.1.2)
    [InlineData("*", 3, true)]
    [InlineData("\"2\"", 3, false)]
    public void If_none_match_hits_the_current_revision_weakly(string ifNoneMatch, long version, bool hits)
    {
        var http = new DefaultHttpContext();
        http.Request.Headers.IfNoneMatch = ifNoneMatch;

        TaskETag.NoneMatchHits(http.Request, version).ShouldBe(hits);
    }

    [Theory]
    [InlineData(AppRoles.Admin, false, true, true)]
    [InlineData(AppRoles.User, true, true, true)] // the owner
    [InlineData(AppRoles.User, false, false, false)] // someone else
    [InlineData(AppRoles.Guest, true, false, false)] // a guest never sees by ownership
    public void Who_sees_and_edits_a_task(string role, bool isOwner, bool sees, bool edits)
    {
        var caller = Caller(isOwner ? Owner : Guid.CreateVersion7(), role);
        var task = new TaskItem { Id = Guid.CreateVersion7(), OwnerId = Owner, Title = "x" };

        caller.MaySee(task).ShouldBe(sees);
        caller.MayEdit(task).ShouldBe(edits);
    }

    [Fact]
    public void An_assignee_sees_a_task_but_may_not_edit_it()
    {
        var task = new TaskItem { Id = Guid.CreateVersion7(), OwnerId = Owner, AssigneeId = Assignee, Title = "x" };

        foreach (var role in new[] { AppRoles.User, AppRoles.Guest })
        {
            Caller(Assignee, role).MaySee(task).ShouldBeTrue();
            Caller(Assignee, role).MayEdit(task).ShouldBeFalse();
        }
    }

    [Fact]
    public void A_list_starts_from_the_tasks_of_the_callers_role()
    {
        TaskItemAccess.ListAudienceOf(Caller(Owner, AppRoles.Admin)).ShouldBe(TaskItemAccess.ListAudience.All);
        TaskItemAccess.ListAudienceOf(Caller(Owner, AppRoles.User)).ShouldBe(TaskItemAccess.ListAudience.OwnedOrAssigned);
        TaskItemAccess.ListAudienceOf(Caller(Owner, AppRoles.Guest)).ShouldBe(TaskItemAccess.ListAudience.Assigned);
    }

    private static ClaimsPrincipal Caller(Guid id, string role) => new(new ClaimsIdentity(
        [new Claim(AccessTokenClaims.Subject, id.ToString()), new Claim(AccessTokenClaims.Role, role)],
        authenticationType: "test", nameType: AccessTokenClaims.Subject, roleType: AccessTokenClaims.Role));
}
