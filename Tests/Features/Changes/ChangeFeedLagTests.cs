using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using SliceApi.Features.Changes;
using SliceApi.Tests.Support;

namespace SliceApi.Tests.Features.Changes;

/// <summary>
/// The reading behind the gauge <c>sliceapi.changes.oldest_pending_age</c> on real PostgreSQL (a database of its own,
/// with Marten's event tables): the age of the first event above the lowest row of <c>mt_event_progression</c>.
/// </summary>
public sealed class ChangeFeedLagTests
{
    [Fact]
    public async Task The_age_is_that_of_the_first_event_not_yet_passed_on_by_every_reader_and_zero_when_none_waits()
    {
        var connectionString = await TestDatabaseServer.Current.CreateMigratedDatabaseAsync();
        try
        {
            await using var dataSource = NpgsqlDataSource.Create(connectionString);
            await using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
            var lag = new ChangeFeedLag(services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), dataSource, TimeProvider.System,
                NullLogger<ChangeFeedLag>.Instance);
            var ct = TestContext.Current.CancellationToken;
            (await lag.ReadAsync(ct)).ShouldBe(0, "no events at all");

            var stream = Guid.NewGuid();
            await ExecuteAsync(dataSource, $$"""
                insert into mt_streams (id, type, version, timestamp, tenant_id) values ('{{stream}}', 'task_item', 2, now(), '*DEFAULT*');
                insert into mt_events (seq_id, id, stream_id, version, data, type, timestamp, tenant_id, mt_dotnet_type) values
                  (1, gen_random_uuid(), '{{stream}}', 1, '{}', 'task_created', now() - interval '300 seconds', '*DEFAULT*', 'x'),
                  (2, gen_random_uuid(), '{{stream}}', 2, '{}', 'task_updated', now() - interval '120 seconds', '*DEFAULT*', 'x');
                """);
            (await lag.ReadAsync(ct))!.Value.ShouldBeInRange(299, 330, "nothing processed yet: the first event waits");

            await ExecuteAsync(dataSource, "delete from mt_event_progression; insert into mt_event_progression (name, last_seq_id) values ('HighWaterMark', 2), ('TaskWebhooks:All', 1)");
            (await lag.ReadAsync(ct))!.Value.ShouldBeInRange(119, 150, "the high-water mark passed both, one subscription only the first");

            await ExecuteAsync(dataSource, "update mt_event_progression set last_seq_id = 2");
            (await lag.ReadAsync(ct)).ShouldBe(0, "every reader passed every event");
        }
        finally
        {
            await TestDatabaseServer.Current.DropDatabaseAsync(connectionString);
        }
    }

    [Fact]
    public async Task A_failing_read_is_logged_once_until_a_read_succeeds_again()
    {
        var connectionString = await TestDatabaseServer.Current.CreateMigratedDatabaseAsync();
        try
        {
            await using var dataSource = NpgsqlDataSource.Create(connectionString);
            await using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
            using var logs = new CapturedLogs();
            var lag = new ChangeFeedLag(services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), dataSource, TimeProvider.System,
                new LoggerFactory([logs]).CreateLogger<ChangeFeedLag>());
            var ct = TestContext.Current.CancellationToken;
            int Warnings() => logs.Lines.Count(l => l.Level == LogLevel.Warning);

            (await lag.ReadAsync(ct)).ShouldBe(0);
            await ExecuteAsync(dataSource, "alter table mt_events rename to mt_events_away");
            (await lag.ReadAsync(ct)).ShouldBeNull();
            (await lag.ReadAsync(ct)).ShouldBeNull();
            (await lag.ReadAsync(ct)).ShouldBeNull();
            Warnings().ShouldBe(1, "three failed reads in a row, one warning");

            await ExecuteAsync(dataSource, "alter table mt_events_away rename to mt_events");
            (await lag.ReadAsync(ct)).ShouldBe(0);
            await ExecuteAsync(dataSource, "alter table mt_events rename to mt_events_away");
            (await lag.ReadAsync(ct)).ShouldBeNull();
            Warnings().ShouldBe(2, "a failure after a good read is a new one");
            await ExecuteAsync(dataSource, "alter table mt_events_away rename to mt_events");
        }
        finally
        {
            await TestDatabaseServer.Current.DropDatabaseAsync(connectionString);
        }
    }

    private static async Task ExecuteAsync(NpgsqlDataSource dataSource, string sql)
    {
        await using var command = dataSource.CreateCommand(sql);
        await command.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
    }
}
