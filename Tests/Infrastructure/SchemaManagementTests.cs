using System.Net;
using Npgsql;
using SliceApi.Tests.Support;

namespace SliceApi.Tests.Infrastructure;

/// <summary>
/// Schema management with real processes: Marten's document schema at
/// start-up, under advisory locks, by two instances at once; the migrate and db-patch commands; and the production
/// setting that refuses a database whose schema differs from the document mappings.
/// </summary>
[Trait("Category", "Slow")] // starts app processes: left out of the edit-test loop (--filter "Category!=Slow")
public sealed class SchemaManagementTests
{
    [Fact]
    public async Task Two_processes_starting_together_on_an_empty_database_both_come_up()
    {
        var connectionString = await TestDatabaseServer.Current.CreateEmptyDatabaseAsync();
        var first = AppProcess.Serve(AppProcess.ProductionEnvironment(connectionString));
        var second = AppProcess.Serve(AppProcess.ProductionEnvironment(connectionString));
        try
        {
            var ready = await Task.WhenAll(WaitUntilReadyAsync(first.BaseAddress), WaitUntilReadyAsync(second.BaseAddress));

            ready.ShouldAllBe(status => status == HttpStatusCode.OK);
            (await CountDocumentTablesAsync(connectionString)).ShouldBeGreaterThan(0);
        }
        finally
        {
            first.Process.Kill(entireProcessTree: true);
            second.Process.Kill(entireProcessTree: true);
            await Task.WhenAll(first.Process.WaitForExitAsync(), second.Process.WaitForExitAsync());
            first.Process.Dispose();
            second.Process.Dispose();
            await TestDatabaseServer.Current.DropDatabaseAsync(connectionString);
        }
    }

    [Fact]
    public async Task Db_patch_writes_the_pending_document_schema_and_migrate_applies_it()
    {
        var connectionString = await TestDatabaseServer.Current.CreateEmptyDatabaseAsync();
        var patch = Path.Combine(Path.GetTempPath(), $"sliceapi-patch-{Guid.NewGuid():N}.sql");
        var environment = AppProcess.ProductionEnvironment(connectionString);
        environment["Database__MigrateOnStartup"] = "false";
        try
        {
            var written = await AppProcess.RunAsync(environment, "db-patch", patch);
            written.ExitCode.ShouldBe(0, written.Stdout + written.Stderr);
            (await File.ReadAllTextAsync(patch, TestContext.Current.CancellationToken)).ShouldContain("mt_doc_loginfailure");
            (await CountDocumentTablesAsync(connectionString)).ShouldBe(0);

            var migrated = await AppProcess.RunAsync(environment, "migrate");
            migrated.ExitCode.ShouldBe(0, migrated.Stdout + migrated.Stderr);
            migrated.Stdout.ShouldContain("Applied the document schema changes.");
            (await CountDocumentTablesAsync(connectionString)).ShouldBeGreaterThan(0);

            var again = await AppProcess.RunAsync(environment, "db-patch", patch + ".again");
            again.ExitCode.ShouldBe(0, again.Stdout + again.Stderr);
            again.Stdout.ShouldContain("No differences");
        }
        finally
        {
            File.Delete(patch);
            File.Delete(Path.ChangeExtension(patch, ".drop.sql"));
            await TestDatabaseServer.Current.DropDatabaseAsync(connectionString);
        }
    }

    [Fact]
    public async Task With_verify_schema_on_startup_an_empty_database_stops_start_up_with_one_line()
    {
        var connectionString = await TestDatabaseServer.Current.CreateEmptyDatabaseAsync();
        var environment = AppProcess.ProductionEnvironment(connectionString);
        environment["Database__MigrateOnStartup"] = "false";
        environment["Database__VerifySchemaOnStartup"] = "true";
        try
        {
            var (exitCode, stdout, stderr) = await AppProcess.RunAsync(environment);

            exitCode.ShouldBe(1, stdout + stderr);
            stderr.Trim().ShouldStartWith("SliceApi cannot start: the database schema lacks what the document mappings need");
            stderr.ShouldContain("mt_doc_taskitem");
            stderr.Trim().Split('\n').Length.ShouldBe(1, stderr);
        }
        finally
        {
            await TestDatabaseServer.Current.DropDatabaseAsync(connectionString);
        }
    }

    [Fact]
    public async Task The_release_before_runs_on_a_schema_a_newer_release_extended_and_migrate_keeps_what_it_added()
    {
        var connectionString = await TestDatabaseServer.Current.CreateMigratedDatabaseAsync();
        var environment = AppProcess.ProductionEnvironment(connectionString);
        environment["Database__MigrateOnStartup"] = "false";
        environment["Database__VerifySchemaOnStartup"] = "true";
        // What a newer release adds: a duplicated field (a column) with its index.
        await ExecuteAsync(connectionString, "ALTER TABLE mt_doc_taskitem ADD COLUMN priority integer; CREATE INDEX ix_taskitem_priority ON mt_doc_taskitem (priority)");
        var (process, baseAddress) = AppProcess.Serve(environment);
        try
        {
            (await WaitUntilReadyAsync(baseAddress)).ShouldBe(HttpStatusCode.OK);

            var migrated = await AppProcess.RunAsync(environment, "migrate");

            migrated.ExitCode.ShouldBe(1, migrated.Stdout + migrated.Stderr);
            migrated.Stderr.ShouldContain("would drop column public.mt_doc_taskitem.priority, index public.mt_doc_taskitem.ix_taskitem_priority");
            (await ExecuteAsync(connectionString, "SELECT count(*) FROM pg_indexes WHERE indexname = 'ix_taskitem_priority'")).ShouldBe(1L);

            // Once no older instance runs, the operator lets it drop them.
            var dropped = await AppProcess.RunAsync(environment, "migrate", "--allow-drops");
            dropped.ExitCode.ShouldBe(0, dropped.Stdout + dropped.Stderr);
            (await ExecuteAsync(connectionString, "SELECT count(*) FROM pg_indexes WHERE indexname = 'ix_taskitem_priority'")).ShouldBe(0L);
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            process.Dispose();
            await TestDatabaseServer.Current.DropDatabaseAsync(connectionString);
        }
    }

    private static async Task<object?> ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return await command.ExecuteScalarAsync();
    }

    private static async Task<HttpStatusCode> WaitUntilReadyAsync(Uri baseAddress)
    {
        using var client = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(10) };
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (true)
        {
            try
            {
                using var response = await client.GetAsync("/health/ready");
                if (response.StatusCode == HttpStatusCode.OK || DateTime.UtcNow > deadline)
                {
                    return response.StatusCode;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException && DateTime.UtcNow < deadline)
            {
                // not listening yet, or still applying the schema under the other instance's lock
            }

            await Task.Delay(200);
        }
    }

    private static async Task<long> CountDocumentTablesAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT count(*) FROM pg_tables WHERE tablename LIKE 'mt_doc_%'", connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
