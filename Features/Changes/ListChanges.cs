using FastEndpoints;
using FluentValidation;
using Marten;
using Microsoft.AspNetCore.Http.HttpResults;
using SliceApi.Infrastructure.Endpoints;
using SliceApi.Infrastructure.Security;

namespace SliceApi.Features.Changes;

/// <summary>Query string of <c>GET /api/v1/changes</c>.</summary>
public sealed class ListChangesQuery
{
    /// <summary>The <c>nextCursor</c> of the previous page (or the <c>cursor</c> of the last change handled); absent to start from the oldest change kept.</summary>
    [QueryParam]
    public string? After { get; set; }

    /// <summary>Page size, 1 to 1,000 (default 100).</summary>
    [QueryParam]
    public int? Limit { get; set; }
}

/// <summary>Shape rules of <see cref="ListChangesQuery"/>.</summary>
internal sealed class ListChangesValidator : Validator<ListChangesQuery>
{
    public ListChangesValidator()
    {
        RuleFor(x => x.Limit).InclusiveBetween(1, ListChanges.MaxLimit);
        RuleFor(x => x.After).MaximumLength(19);
        RuleFor(x => x.After).Must(a => a is null || ChangeFeed.TryParse(a, out _))
            .WithMessage("'after' must be a cursor returned by this API (nextCursor or a change's cursor).");
    }
}

/// <summary>
/// <c>GET /api/v1/changes</c>: the changes feed. Every event of the tasks the caller may see, in commit order, with the
/// task's state after it; a task that leaves the caller's view appears once as <c>removed</c>. A client that keeps
/// <c>nextCursor</c> and passes it as <c>after</c> sees each change exactly once. Events are kept for
/// <c>Changes:RetentionDays</c> (30): an older cursor is a 410 problem, after which the client lists the tasks again and
/// starts without a cursor.
/// </summary>
internal sealed class ListChanges(IQuerySession session) : Endpoint<ListChangesQuery, Results<Ok<ListChangesResponse>, ValidationProblem, ProblemHttpResult>>
{
    public const int MaxLimit = 1000;

    public override void Configure()
    {
        Get("changes");
        Group<ChangesGroup>();
        Definition.CallableWithScope(ApiScopes.TasksRead);
        Description(b => b.ProducesProblem(StatusCodes.Status410Gone));
        Summary(s => s.Summary = "Changes to the tasks you may see, in commit order, after a cursor");
    }

    public override async Task<Results<Ok<ListChangesResponse>, ValidationProblem, ProblemHttpResult>> ExecuteAsync(ListChangesQuery req, CancellationToken ct)
    {
        long? after = ChangeFeed.TryParse(req.After, out var position) ? position : null;
        var (state, start, ceiling) = await ChangeFeed.CheckAsync(session, after, ct);
        if (state == CursorState.Expired)
        {
            return ChangeFeedProblems.Expired();
        }

        if (state == CursorState.Unknown)
        {
            return ChangeFeedProblems.Unknown("after");
        }

        return TypedResults.Ok(await ChangeFeed.ReadAsync(session, User, start, req.Limit ?? 100, ct, ceiling));
    }
}

/// <summary>The problems of a cursor the feed cannot continue from.</summary>
internal static class ChangeFeedProblems
{
    /// <summary>410 for a cursor older than the retention (RFC 9110 section 15.5.11).</summary>
    public static ProblemHttpResult Expired() => TypedResults.Problem(statusCode: StatusCodes.Status410Gone, title: "The cursor has expired.",
        detail: "Changes after this cursor are older than the retention and were pruned. List the tasks again (GET /api/v1/tasks), then follow the changes without a cursor.");

    /// <summary>400 naming <paramref name="parameter"/> for a cursor past every change, which this API never issued.</summary>
    public static ValidationProblem Unknown(string parameter) => TypedResults.ValidationProblem(
        new Dictionary<string, string[]> { [parameter] = ["The cursor points past every change; send one returned by this API, or none to start from the oldest change kept."] },
        title: "The request is invalid.");
}
