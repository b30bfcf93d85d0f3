using FastEndpoints;
using FluentValidation;
using Marten;
using Marten.Linq.MatchesSql;
using Microsoft.AspNetCore.Http.HttpResults;
using SliceApi.Infrastructure.Paging;
using SliceApi.Infrastructure.Security;

namespace SliceApi.Features.OAuth;

/// <summary>Query string of <c>GET /api/v1/oauth/apps/all</c>.</summary>
public sealed class ListAllOAuthAppsQuery
{
    /// <summary>Page size, 1 to 100 (default 20).</summary>
    [QueryParam]
    public int? Limit { get; set; }

    /// <summary>The <c>nextCursor</c> of the previous page.</summary>
    [QueryParam]
    public Guid? Cursor { get; set; }
}

/// <summary>One page of apps, newest first.</summary>
/// <param name="Items">At most <c>limit</c> apps.</param>
/// <param name="NextCursor">Pass as <c>cursor</c> for the next page (the last app's id); null on the last page.</param>
public sealed record ListAllOAuthAppsResponse([property: System.ComponentModel.DataAnnotations.MaxLength(100)] IReadOnlyList<OAuthAppResponse> Items, Guid? NextCursor);

/// <summary>Shape rules of <see cref="ListAllOAuthAppsQuery"/>.</summary>
internal sealed class ListAllOAuthAppsValidator : Validator<ListAllOAuthAppsQuery>
{
    public ListAllOAuthAppsValidator() => RuleFor(x => x.Limit).InclusiveBetween(1, 100);
}

/// <summary>
/// <c>GET /api/v1/oauth/apps/all</c>: every registered app, whoever owns it, newest first (admins only), paged by the
/// last app's id (ids are version-7 GUIDs, so they sort by creation), with a <c>Link: &lt;...&gt;; rel="next"</c> header.
/// </summary>
internal sealed class ListAllOAuthApps(IQuerySession session) : Endpoint<ListAllOAuthAppsQuery, Ok<ListAllOAuthAppsResponse>>
{
    public override void Configure()
    {
        Get("oauth/apps/all");
        Group<OAuthGroup>();
        Roles(AppRoles.Admin);
        Summary(s => s.Summary = "List every OAuth app, newest first, paged by cursor (admins)");
    }

    public override async Task<Ok<ListAllOAuthAppsResponse>> ExecuteAsync(ListAllOAuthAppsQuery req, CancellationToken ct)
    {
        var limit = req.Limit ?? 20;
        IQueryable<OAuthApplication> apps = session.Query<OAuthApplication>();
        if (req.Cursor is { } after)
        {
            apps = apps.Where(a => a.MatchesSql("d.id < ?", after));
        }

        var page = (await apps.OrderByDescending(a => a.Id).Take(limit + 1).ToListAsync(ct)).Select(OAuthAppResponse.From).ToList();
        Guid? next = null;
        if (page.Count > limit)
        {
            page.RemoveAt(limit);
            next = page[^1].Id;
        }

        NextPageLink.Write(HttpContext, next?.ToString());
        return TypedResults.Ok(new ListAllOAuthAppsResponse(page, next));
    }
}
