using Marten;

namespace SliceApi.Infrastructure.Data;

/// <summary>
/// Read-modify-write without lost or resurrected writes: a slice that changes or deletes a document it has read loads it
/// with <see cref="LoadForUpdateAsync{T}"/>, which locks the row until the session saves (commits) or is disposed (rolls
/// back). Concurrent writers of the same document queue behind the lock and then read the committed state, so a
/// document deleted meanwhile is not found and is never written back (Marten's revisioned <c>UpdateRevision</c> and
/// <c>Store</c> are upserts, which would insert it again).
/// </summary>
internal static class LockedReads
{
    /// <summary>
    /// Opens the session's transaction (its next <c>SaveChangesAsync</c> commits it) and reads the document with
    /// <paramref name="id"/> <c>FOR UPDATE</c>.
    /// </summary>
    /// <returns>The document, or null when it does not exist (or was deleted by a write that held the lock first).</returns>
    public static async Task<T?> LoadForUpdateAsync<T>(this IDocumentSession session, Guid id, CancellationToken ct) where T : notnull
    {
        await session.BeginTransactionAsync(ct);
        return (await session.QueryAsync<T>("where id = ? for update", ct, id)).SingleOrDefault();
    }

    /// <summary>
    /// Makes every session that names the same <paramref name="key"/> in <paramref name="space"/> take turns, for work that
    /// reads and then writes something no single row stands for (a count against a limit, failures before a lockout):
    /// opens the session's transaction and takes a PostgreSQL transaction-scoped advisory lock on the key's 64-bit hash
    /// (<c>hashtextextended</c>), held until the session saves (commits) or is disposed (rolls back).
    /// </summary>
    /// <param name="session">The session doing the work.</param>
    /// <param name="space">The kind of work, so unrelated work on the same key does not wait (each slice picks its own).</param>
    /// <param name="key">What the work is about, e.g. an email or an owner's id.</param>
    /// <param name="ct">Cancels the wait.</param>
    public static async Task TakeTurnAsync(this IDocumentSession session, long space, string key, CancellationToken ct)
    {
        await session.BeginTransactionAsync(ct);
        await session.QueryAsync<int>("select 1 from pg_advisory_xact_lock(hashtextextended(?, ?))", ct, key, space);
    }
}
