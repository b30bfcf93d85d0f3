using FluentValidation;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Marten;
using Marten.Linq.MatchesSql;
using SliceApi.Infrastructure.Data;
using SliceApi.Infrastructure.Endpoints;
using SliceApi.Infrastructure.Paging;
using SliceApi.Infrastructure.Security;
using SliceApi.Infrastructure.Validation;

namespace SliceApi.Features.Users;

/// <summary>Query string of the user list.</summary>
/// <param name="Limit">Page size, 1 to 100 (default 20).</param>
/// <param name="Cursor">The <c>nextCursor</c> of the previous page.</param>
public sealed record ListUsersQuery(
    [property: FromQuery(Name = "limit")] int? Limit = null,
    [property: FromQuery(Name = "cursor")] string? Cursor = null);

/// <summary>One page of accounts, newest first.</summary>
/// <param name="Items">At most <c>limit</c> accounts.</param>
/// <param name="NextCursor">Pass as <c>cursor</c> for the next page; null on the last page.</param>
public sealed record ListUsersResponse(IReadOnlyList<UserResponse> Items, string? NextCursor);

/// <summary>Shape rules of <see cref="ListUsersQuery"/>.</summary>
internal sealed class ListUsersValidator : AbstractValidator<ListUsersQuery>
{
    public ListUsersValidator()
    {
        RuleFor(x => x.Limit).InclusiveBetween(1, 100);
        RuleFor(x => x.Cursor)
            .Must(c => c is null || KeysetCursor.TryDecode(c, out _))
            .WithMessage("'cursor' must be a nextCursor value returned by this endpoint.");
    }
}

/// <summary><c>GET /api/v1/users</c>: every account, newest first, paged by cursor (admins only), with a <c>Link: &lt;...&gt;; rel="next"</c> header (RFC 8288).</summary>
internal sealed class ListUsersEndpoint : IEndpoint
{
    public void Map(IEndpointRouteBuilder api) =>
        api.MapGet("/users", HandleAsync)
           .WithName("ListUsers")
           .WithTags("Users")
           .WithSummary("List accounts, newest first, paged by cursor (admins)")
           .RequireAuthorization(Policies.Admin)
           .WithRequestValidation<ListUsersQuery>();

    private static async Task<Ok<ListUsersResponse>> HandleAsync([AsParameters] ListUsersQuery query, IQuerySession session, HttpContext http, CancellationToken ct)
    {
        var limit = query.Limit ?? 20;
        IQueryable<User> users = session.Query<User>();
        if (query.Cursor is not null && KeysetCursor.TryDecode(query.Cursor, out var after))
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
            next = KeysetCursor.Encode(page[^1].CreatedAt, page[^1].Id);
        }

        NextPageLink.Write(http, next);
        return TypedResults.Ok(new ListUsersResponse(page, next));
    }
}
