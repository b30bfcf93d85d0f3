using Npgsql;
using SliceApi.Infrastructure.Data;
using SliceApi.Tests.Support;

namespace SliceApi.Tests.Infrastructure;

public sealed class MigrationRunnerTests : IAsyncLifetime
{
    private string connectionString = string.Empty;

    public async ValueTask InitializeAsync()
    {
        connectionString = await TestDatabaseServer.Current.CreateEmptyDatabaseAsync();
        // The SQL migrations run after Marten's schema step, and the last ones point foreign keys at the user document
        // table; its key column stands in for that step here, where only the runner is under test.
        await ScalarAsync<int>("CREATE TABLE mt_doc_user (id uuid PRIMARY KEY); SELECT 1");
    }

    public async ValueTask DisposeAsync() => await TestDatabaseServer.Current.DropDatabaseAsync(connectionString);

    [Fact]
    public async Task Migrate_applies_every_embedded_migration_once_in_order()
    {
        var first = await MigrationRunner.MigrateAsync(connectionString, CancellationToken.None);
        var second = await MigrationRunner.MigrateAsync(connectionString, CancellationToken.None);

        first.ShouldBe(MigrationRunner.Embedded.Select(m => m.Id));
        first.ShouldContain("0001_initial");
        second.ShouldBeEmpty();
        (await ScalarAsync<long>("SELECT count(*) FROM schema_migrations")).ShouldBe(MigrationRunner.Embedded.Count);
        (await ScalarAsync<bool>("SELECT to_regclass('tasks') IS NOT NULL")).ShouldBeTrue();
    }

    [Fact]
    public async Task Concurrent_runners_apply_each_migration_exactly_once()
    {
        var slow = new[]
        {
            MigrationRunner.Create("0001_slow", "SELECT pg_sleep(0.3); CREATE TABLE counter (n int);"),
            MigrationRunner.Create("0002_insert", "INSERT INTO counter VALUES (1);"),
        };

        var results = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => MigrationRunner.MigrateAsync(connectionString, CancellationToken.None, slow)));

        results.Count(r => r.Count == 2).ShouldBe(1);
        results.Count(r => r.Count == 0).ShouldBe(3);
        (await ScalarAsync<long>("SELECT count(*) FROM counter")).ShouldBe(1);
    }

    [Fact]
    public async Task A_failing_migration_is_rolled_back_and_later_ones_do_not_run()
    {
        var migrations = new[]
        {
            MigrationRunner.Create("0001_ok", "CREATE TABLE kept (id int);"),
            MigrationRunner.Create("0002_broken", "CREATE TABLE half (id int); SELECT * FROM no_such_table;"),
            MigrationRunner.Create("0003_later", "CREATE TABLE later (id int);"),
        };

        await Should.ThrowAsync<PostgresException>(() => MigrationRunner.MigrateAsync(connectionString, CancellationToken.None, migrations));

        (await ScalarAsync<bool>("SELECT to_regclass('kept') IS NOT NULL")).ShouldBeTrue();
        (await ScalarAsync<bool>("SELECT to_regclass('half') IS NOT NULL")).ShouldBeFalse();
        (await ScalarAsync<bool>("SELECT to_regclass('later') IS NOT NULL")).ShouldBeFalse();
        (await ScalarAsync<string>("SELECT string_agg(id, ',') FROM schema_migrations")).ShouldBe("0001_ok");
    }

    [Fact]
    public async Task An_applied_migration_that_was_edited_is_refused()
    {
        await MigrationRunner.MigrateAsync(connectionString, CancellationToken.None, [MigrationRunner.Create("0001_a", "CREATE TABLE a (id int);")]);

        var error = await Should.ThrowAsync<InvalidOperationException>(() => MigrationRunner.MigrateAsync(
            connectionString, CancellationToken.None, [MigrationRunner.Create("0001_a", "CREATE TABLE a (id bigint);")]));

        error.Message.ShouldContain("0001_a was changed");
    }

    private async Task<T> ScalarAsync<T>(string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync())!;
    }
}
