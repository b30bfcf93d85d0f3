using Npgsql;
using SliceApi.Infrastructure.Data;
using SliceApi.Tests.Support;

namespace SliceApi.Tests.Infrastructure;

/// <summary>
/// The API's connection pool (DataSetup.CreateDataSource) on real PostgreSQL: statements a request repeats stay prepared
/// when the connection goes back to the pool and comes out again, while the session's state is still reset; off when
/// Database:MaxAutoPrepare is 0 (Npgsql's DISCARD ALL then drops them with every other plan of the session).
/// </summary>
public sealed class ConnectionPoolTests
{
    private const string Statement = "select count(*) from pg_class where relkind = $1";

    [Fact]
    public async Task Repeated_statements_stay_prepared_across_pool_returns_and_session_state_is_reset()
    {
        var connectionString = await TestDatabaseServer.Current.CreateEmptyDatabaseAsync();
        try
        {
            await using var dataSource = DataSetup.CreateDataSource(OneConnection(connectionString), new DatabaseOptions());
            await RepeatAsync(dataSource, 6);
            await using (var setter = await dataSource.OpenConnectionAsync(TestContext.Current.CancellationToken))
            {
                await Execute(setter, "set statement_timeout = 1234");
            }

            await using var connection = await dataSource.OpenConnectionAsync(TestContext.Current.CancellationToken);
            (await Scalar<long>(connection, "select count(*) from pg_prepared_statements where statement = '" + Statement + "'")).ShouldBe(1);
            (await Scalar<string>(connection, "show statement_timeout")).ShouldBe("0", "a setting made on a pooled connection is reset when it is returned");
        }
        finally
        {
            await TestDatabaseServer.Current.DropDatabaseAsync(connectionString);
        }
    }

    [Fact]
    public async Task Zero_turns_preparation_off_and_the_connection_string_can_set_its_own()
    {
        var connectionString = await TestDatabaseServer.Current.CreateEmptyDatabaseAsync();
        try
        {
            await using (var off = DataSetup.CreateDataSource(OneConnection(connectionString), new DatabaseOptions { MaxAutoPrepare = 0 }))
            {
                await RepeatAsync(off, 6);
                await using var connection = await off.OpenConnectionAsync(TestContext.Current.CancellationToken);
                (await Scalar<long>(connection, "select count(*) from pg_prepared_statements")).ShouldBe(0);
            }

            await using var own = DataSetup.CreateDataSource(OneConnection(connectionString) + ";Max Auto Prepare=3", new DatabaseOptions());
            new NpgsqlConnectionStringBuilder(own.ConnectionString).MaxAutoPrepare.ShouldBe(3);
        }
        finally
        {
            await TestDatabaseServer.Current.DropDatabaseAsync(connectionString);
        }
    }

    // One physical connection, so every open gets the same session back from the pool.
    private static string OneConnection(string connectionString) => connectionString + ";Maximum Pool Size=1";

    private static async Task RepeatAsync(NpgsqlDataSource dataSource, int times)
    {
        for (var i = 0; i < times; i++)
        {
            await using var connection = await dataSource.OpenConnectionAsync(TestContext.Current.CancellationToken);
            await using var command = new NpgsqlCommand(Statement, connection) { Parameters = { new() { Value = 'r' } } };
            await command.ExecuteScalarAsync(TestContext.Current.CancellationToken);
        }
    }

    private static async Task Execute(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
    }

    private static async Task<T> Scalar<T>(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync(TestContext.Current.CancellationToken))!;
    }
}
