using Marten;
using Weasel.Core;
using Weasel.Core.Migrations;
using Weasel.Postgresql.Tables;

namespace SliceApi.Infrastructure.Data;

/// <summary>
/// Whether the database's document schema serves this build, for releases that roll forward and back: schema changes
/// between adjacent releases are additive, so a build runs on a schema that holds at least every table, column, index
/// and foreign key it maps; what a newer release added (extras) is left alone. Marten's own check demands an exact
/// match, which would stop the previous release from starting after an upgrade added an index.
/// </summary>
internal static class SchemaCompatibility
{
    /// <summary>What this build maps that the database lacks (or holds in another shape), one description each; empty when it serves.</summary>
    public static async Task<IReadOnlyList<string>> MissingAsync(IDocumentStore store, CancellationToken ct)
    {
        var migration = await store.Storage.Database.CreateMigrationAsync(ct);
        return [.. migration.Deltas.Where(d => d.Difference != SchemaPatchDifference.None).SelectMany(d => d switch
        {
            TableDelta { Actual: { } actual, Expected: var expected, PrimaryKeyDifference: SchemaPatchDifference.None } =>
                Names(expected, "column", t => t.Columns.Select(c => c.Name)).Except(Names(actual, "column", t => t.Columns.Select(c => c.Name)))
                    .Concat(Names(expected, "index", t => t.Indexes.Select(i => i.Name)).Except(Names(actual, "index", t => t.Indexes.Select(i => i.Name))))
                    .Concat(Names(expected, "foreign key", t => t.ForeignKeys.Select(k => k.Name)).Except(Names(actual, "foreign key", t => t.ForeignKeys.Select(k => k.Name)))),
            _ => [$"{d.SchemaObject.Identifier} ({d.Difference})"],
        })];
    }

    /// <summary>
    /// What applying <paramref name="migration"/> would drop (columns, indexes, foreign keys the database holds and this
    /// build no longer maps): a release that did so would break the previous one, still running during a rollout.
    /// </summary>
    public static IReadOnlyList<string> Drops(SchemaMigration migration) =>
        [.. migration.Deltas.OfType<TableDelta>().Select(d => (Actual: d.Actual!, d.Expected)).Where(d => d.Actual is not null).SelectMany(d =>
            Names(d.Actual, "column", t => t.Columns.Select(c => c.Name)).Except(Names(d.Expected, "column", t => t.Columns.Select(c => c.Name)))
                .Concat(Names(d.Actual, "index", t => t.Indexes.Select(i => i.Name)).Except(Names(d.Expected, "index", t => t.Indexes.Select(i => i.Name))))
                .Concat(Names(d.Actual, "foreign key", t => t.ForeignKeys.Select(k => k.Name)).Except(Names(d.Expected, "foreign key", t => t.ForeignKeys.Select(k => k.Name)))))];

    private static IEnumerable<string> Names(Table table, string kind, Func<Table, IEnumerable<string>> names) =>
        names(table).Select(n => $"{kind} {table.Identifier}.{n.ToLowerInvariant()}");
}

/// <summary>
/// With <c>Database:VerifySchemaOnStartup</c>: refuses to start (a <see cref="DatabaseValidationException"/>, one line
/// on stderr) when the schema lacks something this build maps; runs right after the database is resolved.
/// </summary>
internal sealed class SchemaVerification(IDocumentStore store) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (await SchemaCompatibility.MissingAsync(store, cancellationToken) is { Count: > 0 } missing)
        {
            throw new DatabaseValidationException("The database schema lacks what the document mappings need.",
                new InvalidOperationException($"Missing: {string.Join(", ", missing)}."));
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
