using Marten;
using Npgsql;

namespace SliceApi.Infrastructure.Data;

/// <summary>
/// An open PostgreSQL transaction that a request's document sessions write in, set as an HTTP request feature by
/// whoever opened it (and commits or rolls it back): sessions opened while it is set enlist in it (see
/// <see cref="RequestSessionFactory"/>), so their writes commit or roll back together with the opener's own.
/// </summary>
/// <param name="Transaction">The open transaction.</param>
internal sealed record RequestTransaction(NpgsqlTransaction Transaction);

/// <summary>
/// Marten's session factory for requests: lightweight sessions, enlisted in the request's <see cref="RequestTransaction"/>
/// when it has one (<c>SaveChangesAsync</c> then writes without committing), otherwise committing on
/// <c>SaveChangesAsync</c> as usual.
/// </summary>
internal sealed class RequestSessionFactory(IDocumentStore store, IHttpContextAccessor http) : ISessionFactory
{
    public IQuerySession QuerySession() => store.QuerySession();

    public IDocumentSession OpenSession() =>
        http.HttpContext?.Features.Get<RequestTransaction>() is { } open
            ? store.LightweightSession(Marten.Services.SessionOptions.ForTransaction(open.Transaction, shouldAutoCommit: false))
            : store.LightweightSession();
}
