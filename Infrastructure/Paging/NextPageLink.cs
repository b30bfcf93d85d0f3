using Microsoft.AspNetCore.Http.Extensions;

namespace SliceApi.Infrastructure.Paging;

/// <summary>
/// The <c>Link</c> header of cursor-paged lists (RFC 8288, relation type <c>next</c>): the same request with
/// <c>cursor</c> set to the next page's cursor, so a client can follow pages without building URLs.
/// </summary>
internal static class NextPageLink
{
    /// <summary>The query parameter that carries a page position.</summary>
    public const string CursorParameter = "cursor";

    /// <summary>
    /// The longest header value, in characters: the request's path and query, which Kestrel limits to its 8 KiB request
    /// line, with the cursor and the link syntax around them.
    /// </summary>
    public const int MaxLength = 8192;

    /// <summary>
    /// Adds <c>Link: &lt;/path?...&amp;cursor=...&gt;; rel="next"</c> when <paramref name="nextCursor"/> is not null.
    /// The target is a relative reference (RFC 8288 section 3.1, resolved against the request URI), so it stays
    /// right behind proxies; every other query parameter of the request is kept, in order.
    /// </summary>
    public static void Write(HttpContext context, string? nextCursor)
    {
        if (nextCursor is null)
        {
            return;
        }

        var query = new QueryBuilder();
        foreach (var (name, values) in context.Request.Query)
        {
            if (!string.Equals(name, CursorParameter, StringComparison.OrdinalIgnoreCase))
            {
                query.Add(name, (IEnumerable<string>)values);
            }
        }

        query.Add(CursorParameter, nextCursor);
        var target = context.Request.PathBase.Add(context.Request.Path).ToUriComponent() + query.ToQueryString().ToUriComponent();
        context.Response.Headers.Append("Link", $"<{target}>; rel=\"next\"");
    }
}
