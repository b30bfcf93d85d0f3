using System.Collections.Immutable;
using System.Linq.Expressions;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Marten;
using OpenIddict.Abstractions;
using SliceApi.Infrastructure.Data;

namespace SliceApi.Features.OAuth;

/// <summary>What every OpenIddict entity stored by this feature has: a GUID id and OpenIddict's concurrency token.</summary>
public interface IOAuthDocument
{
    /// <summary>The id, a version-7 GUID; OpenIddict sees it as a string.</summary>
    Guid Id { get; set; }

    /// <summary>Changes on every write; OpenIddict's optimistic concurrency check compares it.</summary>
    string? ConcurrencyToken { get; set; }
}

/// <summary>
/// What the four OpenIddict stores of this feature share: each call uses a session of its own and saves at once, as
/// OpenIddict expects; updates and deletes lock the row and compare <see cref="IOAuthDocument.ConcurrencyToken"/>, so a
/// change made meanwhile (a refresh token redeemed twice at once, say) is an
/// <see cref="OpenIddictExceptions.ConcurrencyException"/> for one of the writers, never a lost write.
/// </summary>
/// <typeparam name="T">The stored document.</typeparam>
#pragma warning disable CS8714 // OpenIddict's query results may be nullable; Marten's LINQ extensions are annotated notnull only
internal abstract class MartenStore<T>(IDocumentStore store) where T : class, IOAuthDocument, new()
{
    /// <summary>The document store the sessions come from.</summary>
    protected IDocumentStore Store => store;

    public async ValueTask<long> CountAsync(CancellationToken cancellationToken)
    {
        await using var session = store.QuerySession();
        return await session.Query<T>().LongCountAsync(cancellationToken);
    }

    public async ValueTask<long> CountAsync<TResult>(Func<IQueryable<T>, IQueryable<TResult>> query, CancellationToken cancellationToken)
    {
        await using var session = store.QuerySession();
        return await query(session.Query<T>()).LongCountAsync(cancellationToken);
    }

    public async ValueTask CreateAsync(T entity, CancellationToken cancellationToken)
    {
        await using var session = store.LightweightSession();
        session.Insert(entity);
        await session.SaveChangesAsync(cancellationToken);
    }

    public async ValueTask DeleteAsync(T entity, CancellationToken cancellationToken)
    {
        await using var session = store.LightweightSession();
        await LockCurrentAsync(session, entity, cancellationToken);
        session.Delete<T>(entity.Id);
        OnDelete(session, entity.Id);
        await session.SaveChangesAsync(cancellationToken);
    }

    public async ValueTask UpdateAsync(T entity, CancellationToken cancellationToken)
    {
        await using var session = store.LightweightSession();
        await LockCurrentAsync(session, entity, cancellationToken);
        entity.ConcurrencyToken = Guid.NewGuid().ToString();
        session.Update(entity);
        await session.SaveChangesAsync(cancellationToken);
    }

    public async ValueTask<T?> FindByIdAsync(string identifier, CancellationToken cancellationToken)
    {
        if (!Guid.TryParse(identifier, out var id))
        {
            return null;
        }

        await using var session = store.QuerySession();
        return await session.LoadAsync<T>(id, cancellationToken);
    }

    public async ValueTask<TResult?> GetAsync<TState, TResult>(Func<IQueryable<T>, TState, IQueryable<TResult>> query, TState state, CancellationToken cancellationToken)
    {
        await using var session = store.QuerySession();
        return await query(session.Query<T>(), state).FirstOrDefaultAsync(cancellationToken);
    }

#pragma warning disable CA1822 // instance members: they implement OpenIddict's store interfaces in the derived stores
    public ValueTask<string?> GetIdAsync(T entity, CancellationToken cancellationToken) => new(entity.Id.ToString());

    public ValueTask<T> InstantiateAsync(CancellationToken cancellationToken) => new(new T { Id = Guid.CreateVersion7() });
#pragma warning restore CA1822

    public IAsyncEnumerable<T> ListAsync(int? count, int? offset, CancellationToken cancellationToken) =>
        ListAsync<object?, T>((q, _) => q.OrderBy(e => e.Id).Skip(offset ?? 0).Take(count ?? int.MaxValue), null, cancellationToken);

    public async IAsyncEnumerable<TResult> ListAsync<TState, TResult>(
        Func<IQueryable<T>, TState, IQueryable<TResult>> query, TState state, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await using var session = store.QuerySession();
        foreach (var item in await query(session.Query<T>(), state).ToListAsync(cancellationToken))
        {
            yield return item;
        }
    }

    /// <summary>Queues, in the deleting session, the removal of what belongs to the deleted entity.</summary>
    protected virtual void OnDelete(IDocumentSession session, Guid id)
    {
    }

    /// <summary>The documents matching <paramref name="predicate"/>, read in one query.</summary>
    protected async IAsyncEnumerable<T> ListWhereAsync(Expression<Func<T, bool>> predicate, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await using var session = store.QuerySession();
        foreach (var entity in await session.Query<T>().Where(predicate).ToListAsync(cancellationToken))
        {
            yield return entity;
        }
    }

    /// <summary>Marks the documents matching <paramref name="predicate"/> revoked in one statement and returns how many there were.</summary>
    protected async ValueTask<long> RevokeWhereAsync(Expression<Func<T, bool>> predicate, Expression<Func<T, string?>> status, CancellationToken cancellationToken)
    {
        await using var session = store.LightweightSession();
        var count = await session.Query<T>().Where(predicate).LongCountAsync(cancellationToken);
        if (count > 0)
        {
            // One patch: the status, and a new concurrency token so a writer holding the old state fails instead of undoing it.
            Marten.Patching.PatchingExtensions.Patch(session, predicate)
                .Set(status, OpenIddictConstants.Statuses.Revoked)
                .Set(e => e.ConcurrencyToken, Guid.NewGuid().ToString());
            await session.SaveChangesAsync(cancellationToken);
        }

        return count;
    }

    /// <summary>Parses an OpenIddict identifier; null when it is not one of ours.</summary>
    protected static Guid? ParseId(string? identifier) => Guid.TryParse(identifier, out var id) ? id : null;

    /// <summary>Sets a member (OpenIddict's setters only change the instance; <c>UpdateAsync</c> saves it).</summary>
    protected static ValueTask Set(Action set)
    {
        set();
        return ValueTask.CompletedTask;
    }

    /// <summary>Reads OpenIddict's extra properties from their stored JSON.</summary>
    protected static ImmutableDictionary<string, JsonElement> ReadProperties(string? json) =>
        json is null ? ImmutableDictionary<string, JsonElement>.Empty : JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(json)!.ToImmutableDictionary();

    /// <summary>Stores OpenIddict's extra properties as JSON, or null when there are none.</summary>
    protected static string? WriteProperties(ImmutableDictionary<string, JsonElement> properties) =>
        properties.IsEmpty ? null : JsonSerializer.Serialize(properties);

    // Locks the stored row for the session's transaction; gone, or changed since it was read, is a concurrency failure.
    private static async Task LockCurrentAsync(IDocumentSession session, T entity, CancellationToken cancellationToken)
    {
        var current = await session.LoadForUpdateAsync<T>(entity.Id, cancellationToken);
        if (current is null || current.ConcurrencyToken != entity.ConcurrencyToken)
        {
            throw new OpenIddictExceptions.ConcurrencyException($"The {typeof(T).Name} was changed or deleted since it was read; read it again.");
        }
    }
}
#pragma warning restore CS8714
