using JasperFx;
using Marten;
using SliceApi.Infrastructure.Cli;
using Weasel.Core;
using Weasel.Core.Migrations;

namespace SliceApi.Infrastructure.Data;

/// <summary>
/// <c>dotnet SliceApi.dll migrate [--allow-drops]</c>: applies Marten's schema changes for the document mappings
/// (tables, indexes, foreign keys, the pg_trgm extension) under Marten's advisory lock, and exits (0). For deployments
/// that start with <c>Database:MigrateOnStartup=false</c>. Changes are additive between releases: when applying them
/// would drop a column, index or foreign key this build no longer maps, it lists them and exits 1 without changing
/// anything, since the release before may still run on them; <c>--allow-drops</c> applies them once no instance of
/// an older release runs.
/// </summary>
internal sealed class MigrateCommand : ICliCommand
{
    public string Name => "migrate";

    public async Task<int> RunAsync(IReadOnlyList<string> arguments, IServiceProvider services, CancellationToken cancellationToken)
    {
        var store = services.GetRequiredService<IDocumentStore>();
        var pending = await store.Storage.Database.CreateMigrationAsync(cancellationToken);
        if (SchemaCompatibility.Drops(pending) is { Count: > 0 } drops && !arguments.Contains("--allow-drops"))
        {
            await Console.Error.WriteLineAsync($"migrate would drop {string.Join(", ", drops)}, which the release before may still use. " +
                                               "Nothing was changed; run 'migrate --allow-drops' once no older instance runs.");
            return 1;
        }

        await store.Storage.ApplyAllConfiguredChangesToDatabaseAsync(AutoCreate.CreateOrUpdate);
        Console.WriteLine(pending.Difference == SchemaPatchDifference.None
            ? "The document schema is up to date."
            : "Applied the document schema changes.");
        return 0;
    }
}

/// <summary>
/// <c>dotnet SliceApi.dll db-patch &lt;file&gt;</c>: writes the SQL that would bring the database's document schema
/// in line with the mappings to <c>&lt;file&gt;</c> (and a rollback script beside it, Weasel's
/// convention) for review, changing nothing. Exit 0 with "No differences" when there is nothing to apply; 2 on usage errors.
/// </summary>
internal sealed class SchemaPatchCommand : ICliCommand
{
    public string Name => "db-patch";

    public async Task<int> RunAsync(IReadOnlyList<string> arguments, IServiceProvider services, CancellationToken cancellationToken)
    {
        if (arguments.Count != 1)
        {
            await Console.Error.WriteLineAsync("Usage: db-patch <file>");
            return 2;
        }

        var database = services.GetRequiredService<IDocumentStore>().Storage.Database;
        var migration = await database.CreateMigrationAsync(cancellationToken);
        if (migration.Difference == SchemaPatchDifference.None)
        {
            Console.WriteLine("No differences between the database and the document mappings.");
            return 0;
        }

        await database.WriteMigrationFileAsync(arguments[0], cancellationToken);
        Console.WriteLine($"Wrote the pending document schema patch to {arguments[0]}.");
        return 0;
    }
}
