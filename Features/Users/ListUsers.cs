using FastEndpoints;
using FluentValidation;
using Marten;
using Marten.Linq.MatchesSql;
using Microsoft.AspNetCore.Http.HttpResults;
using SliceApi.Infrastructure.Paging;
using SliceApi.Infrastructure.Security;

namespace SliceApi.Features.Users;

/// <summary>Query string of <c>GET /api/v1/users</c>.</summary>
public sealed class ListUsersQuery
{
    /// <summary>Page size, 1 to 100 (default 20).</summary>
    [QueryParam]
    public int? Limit { get; set; }

    /// <summary>The <c>nextCursor</c> of the previous page.</summary>
    [QueryParam]
    public string? Cursor { get; set; }
}

/// <summary>One page of accounts, newest first.</summary>
/// <param name="Items">At most <c>limit</c> accounts.</param>
/// <param name="NextCursor">Pass as <c>cursor</c> for the next page; null on the last page.</param>
public sealed record ListUsersResponse(
    [property: System.ComponentModel.DataAnnotations.MaxLength(100)] IReadOnlyList<UserResponse> Items, [property: System.ComponentModel.DataAnnotations.MaxLength(32)] string? NextCursor);

/// <summary>Shape rules of <see cref="ListUsersQuery"/>.</summary>
internal sealed class ListUsersValidator : Validator<ListUsersQuery>
{
    public ListUsersValidator()
    {
        RuleFor(x => x.Limit).InclusiveBetween(1, 100);
        RuleFor(x => x.Cursor).Cascade(CascadeMode.Stop)
            .MaximumLength(UserListCursor.TextLength)
            .Must(c => c is null || UserListCursor.TryDecode(c, out _))
            .WithMessage("'cursor' must be a nextCursor value returned by this endpoint.");
    }
}

/// <summary><c>GET /api/v1/users</c>: every account, newest first, paged by cursor (admins only), with a <c>Link: &lt;...&gt;; rel="next"</c> header (RFC 8288).</summary>
internal sealed class ListUsers(IQuerySession session) : Endpoint<ListUsersQuery, Ok<ListUsersResponse>>
{
    public override void Configure()
    {
        Get("users");
        Group<UsersGroup>();
        Roles(AppRoles.Admin);
        Summary(s => s.Summary = "List accounts, newest first, paged by cursor (admins)");
    }

    public override async Task<Ok<ListUsersResponse>> ExecuteAsync(ListUsersQuery req, CancellationToken ct)
    {
        var query = req;
        var limit = query.Limit ?? 20;
        IQueryable<User> users = session.Query<User>();
        if (query.Cursor is not null && UserListCursor.TryDecode(query.Cursor, out var after))
        {
            // A row-value comparison, which the (created_at, id) index serves as one backward seek.
            users = users.Where(u => u.MatchesSql("(d.created_at, d.id) < (?, ?)", after.CreatedAt, after.Id));
        }

        var page = (await users.OrderByDescending(u => u.CreatedAt).ThenByDescending(u => u.Id).Take(limit + 1).ToListAsync(ct))
            .Select(UserResponse.From).ToList();
        string? next = null;
        if (page.Count > limit)
        {
            page.RemoveAt(limit);
            next = UserListCursor.Encode(page[^1].CreatedAt, page[^1].Id);
        }

        NextPageLink.Write(HttpContext, next);
        return TypedResults.Ok(new ListUsersResponse(page, next));
    }
}
