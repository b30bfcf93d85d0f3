using JasperFx;
using JasperFx.CommandLine;
using Marten;
using Weasel.Core;
using Weasel.Core.Migrations;

namespace SliceApi.Infrastructure.Data;

/// <summary>The flags of <see cref="MigrateCommand"/>.</summary>
public sealed class MigrateInput : NetCoreInput
{
    /// <summary>Applies drops too (<c>--allow-drops</c>): only once no instance of an older release runs.</summary>
    [Description("Also drop the columns, indexes and foreign keys this build no longer maps")]
    public bool AllowDropsFlag { get; set; }
}

/// <summary>
/// <c>dotnet SliceApi.dll migrate [--allow-drops]</c>: applies Marten's schema changes for the document mappings
/// (tables, indexes, foreign keys, the pg_trgm extension) under Marten's advisory lock, then the data steps
/// (<see cref="IDataMigration"/>) not yet run, and exits (0). For deployments
/// that start with <c>Database:MigrateOnStartup=false</c>. Unlike Marten's <c>db-apply</c>, changes are additive between
/// releases: when applying them would drop a column, index or foreign key this build no longer maps, it lists them and
/// exits 1 without changing anything, since the release before may still run on them; <c>--allow-drops</c> applies them
/// once no instance of an older release runs.
/// </summary>
[Description("Apply the document schema changes, refusing drops unless --allow-drops", Name = "migrate")]
public sealed class MigrateCommand : JasperFxAsyncCommand<MigrateInput>
{
    /// <summary>Applies the changes; false (exit code 1) when drops were refused.</summary>
    public override async Task<bool> Execute(MigrateInput input)
    {
        var services = input.BuildHost().Services;
        var store = services.GetRequiredService<IDocumentStore>();
        var pending = await store.Storage.Database.CreateMigrationAsync();
        if (SchemaCompatibility.Drops(pending) is { Count: > 0 } drops && !input.AllowDropsFlag)
        {
            await Console.Error.WriteLineAsync($"migrate would drop {string.Join(", ", drops)}, which the release before may still use. " +
                                               "Nothing was changed; run 'migrate --allow-drops' once no older instance runs.");
            return false;
        }

        await store.Storage.ApplyAllConfiguredChangesToDatabaseAsync(AutoCreate.CreateOrUpdate);
        await DataMigrations.ApplyAsync(store, services.GetServices<IDataMigration>(), TimeProvider.System, CancellationToken.None);
        Console.WriteLine(pending.Difference == SchemaPatchDifference.None ? "The document schema is up to date." : "Applied the document schema changes.");
        return true;
    }
}
