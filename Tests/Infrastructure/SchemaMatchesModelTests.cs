using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Metadata;
using Npgsql;
using SliceApi.Tests.Support;

namespace SliceApi.Tests.Infrastructure;

/// <summary>The SQL migrations and the EF model describe the same schema, so they cannot drift apart.</summary>
public sealed class SchemaMatchesModelTests(AppFixture api) : IClassFixture<AppFixture>
{
    [Fact]
    public async Task Every_mapped_table_and_column_exists_with_the_models_type_and_nullability()
    {
        var expected = await api.WithDbAsync(db => Task.FromResult(ModelColumns(DesignTimeModel(db))));
        var actual = await DatabaseColumnsAsync(expected.Select(c => c.Table).Distinct().ToArray());

        actual.OrderBy(c => c.Table).ThenBy(c => c.Column).ShouldBe(expected.OrderBy(c => c.Table).ThenBy(c => c.Column));
    }

    [Fact]
    public async Task Every_mapped_table_has_the_models_primary_key_and_indexes()
    {
        var (keys, indexes) = await api.WithDbAsync(db => Task.FromResult((ModelKeys(DesignTimeModel(db)), ModelIndexes(DesignTimeModel(db)))));

        (await DatabasePrimaryKeysAsync()).Where(k => keys.Any(m => m.Table == k.Table)).OrderBy(k => k.Table).ShouldBe(keys.OrderBy(k => k.Table));
        var databaseIndexes = await DatabaseIndexesAsync();
        foreach (var index in indexes)
        {
            databaseIndexes.ShouldContain(index);
        }
    }

    // The runtime model drops index details; the design-time model keeps them.
    private static IModel DesignTimeModel(DbContext db) => db.GetService<IDesignTimeModel>().Model;

    private static List<ColumnShape> ModelColumns(IModel model) =>
        model.GetEntityTypes().SelectMany(entity =>
        {
            var table = StoreObjectIdentifier.Table(entity.GetTableName()!, entity.GetSchema());
            // xmin is PostgreSQL's system column (the row version), present on every table without a migration.
            return entity.GetProperties().Where(p => p.GetColumnName(table) != "xmin").Select(p => new ColumnShape(
                table.Name, p.GetColumnName(table)!, p.GetColumnType(), p.IsColumnNullable(table)));
        }).ToList();

    private static List<KeyShape> ModelKeys(IModel model) =>
        model.GetEntityTypes().Select(e => new KeyShape(
            e.GetTableName()!,
            string.Join(",", e.FindPrimaryKey()!.Properties.Select(p => p.GetColumnName(StoreObjectIdentifier.Table(e.GetTableName()!, null))))))
        .ToList();

    private static List<IndexShape> ModelIndexes(IModel model) =>
        model.GetEntityTypes().SelectMany(e => e.GetIndexes().Select(i => new IndexShape(
            e.GetTableName()!, i.GetDatabaseName()!, i.IsUnique,
            string.Join(",", i.Properties.Select((p, n) =>
                p.GetColumnName(StoreObjectIdentifier.Table(e.GetTableName()!, null)) + (IsDescending(i, n) ? " DESC" : string.Empty))))))
        .ToList();

    // EF stores "every column descending" as an empty list and "all ascending" as null.
    private static bool IsDescending(IIndex index, int column) =>
        index.IsDescending is { } descending && (descending.Count == 0 || (descending.Count > column && descending[column]));

    private async Task<List<ColumnShape>> DatabaseColumnsAsync(string[] tables)
    {
        const string sql = """
            SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), NOT a.attnotnull
            FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.relname = ANY($1) AND a.attnum > 0 AND NOT a.attisdropped
            """;
        return await QueryAsync(sql, r => new ColumnShape(r.GetString(0), r.GetString(1), r.GetString(2), r.GetBoolean(3)), [tables]);
    }

    private Task<List<KeyShape>> DatabasePrimaryKeysAsync() => QueryAsync(
        """
        SELECT c.relname, string_agg(a.attname, ',' ORDER BY k.ord)
        FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
        CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
        JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
        WHERE i.indisprimary AND c.relnamespace = 'public'::regnamespace GROUP BY c.relname
        """,
        r => new KeyShape(r.GetString(0), r.GetString(1)));

    private Task<List<IndexShape>> DatabaseIndexesAsync() => QueryAsync(
        """
        SELECT t.relname, ic.relname, i.indisunique,
               string_agg(a.attname || CASE WHEN (i.indoption[k.ord - 1] & 1) = 1 THEN ' DESC' ELSE '' END, ',' ORDER BY k.ord)
        FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid JOIN pg_class ic ON ic.oid = i.indexrelid
        CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
        JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
        WHERE NOT i.indisprimary AND t.relnamespace = 'public'::regnamespace GROUP BY t.relname, ic.relname, i.indisunique
        """,
        r => new IndexShape(r.GetString(0), r.GetString(1), r.GetBoolean(2), r.GetString(3)));

    private async Task<List<T>> QueryAsync<T>(string sql, Func<NpgsqlDataReader, T> read, params object[] parameters)
    {
        await using var connection = new NpgsqlConnection(api.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var parameter in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = parameter });
        }

        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<T>();
        while (await reader.ReadAsync())
        {
            rows.Add(read(reader));
        }

        return rows;
    }

    private sealed record ColumnShape(string Table, string Column, string? Type, bool Nullable);

    private sealed record KeyShape(string Table, string Columns);

    private sealed record IndexShape(string Table, string Name, bool Unique, string Columns);
}
