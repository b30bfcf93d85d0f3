using System.Diagnostics.Metrics;
using Npgsql;
using SliceApi.Infrastructure.Telemetry;

namespace SliceApi.Features.Changes;

/// <summary>
/// The gauge <c>sliceapi.changes.oldest_pending_age</c> (seconds; meter <c>SliceApi</c>; Prometheus:
/// <c>sliceapi_changes_oldest_pending_age_seconds</c>): how old the oldest task event is that Marten's async daemon has not
/// yet passed on to everything that reads it: the changes feed (its high-water mark) and the subscriptions (webhook
/// fan-out, the live stream's wake-ups), that is the first event above the lowest row of <c>mt_event_progression</c>;
/// 0 when there is none. It grows while the daemon is stalled or runs nowhere, which the alert
/// <c>SliceApiChangesFeedStalled</c> (deploy/prometheus/rules.yml) watches. Read from the database when scraped, at most
/// every <see cref="MaxStaleness"/> (a scrape gets the figure of the previous read: the gauge never waits on the
/// database); no value while the database does not answer.
/// </summary>
internal sealed partial class ChangeFeedLag : IHostedService
{
    /// <summary>How old a reading may be before a scrape starts the next one (5 seconds).</summary>
    public static readonly TimeSpan MaxStaleness = TimeSpan.FromSeconds(5);

    private const string Sql = """
        select coalesce(extract(epoch from now() - (
            select timestamp from mt_events
            where seq_id > (select coalesce(min(last_seq_id), 0) from mt_event_progression)
            order by seq_id limit 1)), 0)::float8
        """;

    private readonly NpgsqlDataSource database;
    private readonly TimeProvider clock;
    private readonly ILogger<ChangeFeedLag> logger;
    private volatile object? age; // a boxed double: the scrape's thread reads what a read on another thread wrote
    private long readAt;
    private int reading;
    private int failing; // 1 from a failed read to the next good one: a database outage is logged once, not per scrape

    public ChangeFeedLag(IMeterFactory meters, NpgsqlDataSource database, TimeProvider clock, ILogger<ChangeFeedLag> logger)
    {
        this.database = database;
        this.clock = clock;
        this.logger = logger;
        meters.Create(TelemetrySetup.MeterName).CreateObservableGauge("sliceapi.changes.oldest_pending_age", Observe, "s",
            "Age of the oldest task event the async daemon has not yet released to the changes feed and its subscriptions; 0 when none.");
    }

    /// <summary>Reads the age now (seconds, 0 when nothing is pending); null when the database did not answer.</summary>
    public async Task<double?> ReadAsync(CancellationToken ct)
    {
        try
        {
            await using var command = database.CreateCommand(Sql);
            var value = (double)(await command.ExecuteScalarAsync(ct))!;
            Volatile.Write(ref readAt, clock.GetTimestamp());
            age = value;
            Volatile.Write(ref failing, 0);
            return value;
        }
        catch (ObjectDisposedException)
        {
            age = null; // the host is stopping
        }
        catch (Exception exception) when (exception is NpgsqlException or TimeoutException)
        {
            if (Interlocked.Exchange(ref failing, 1) == 0)
            {
                LogReadFailed(logger, exception.Message);
            }

            age = null;
        }

        return null;
    }

    /// <summary>Nothing to start: registered as a hosted service so that the gauge exists from the host's start.</summary>
    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <inheritdoc />
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private IEnumerable<Measurement<double>> Observe()
    {
        if ((Volatile.Read(ref readAt) == 0 || clock.GetElapsedTime(Volatile.Read(ref readAt)) > MaxStaleness)
            && Interlocked.Exchange(ref reading, 1) == 0)
        {
            _ = Task.Run(async () =>
            {
                try
                {
                    await ReadAsync(CancellationToken.None);
                }
                finally
                {
                    Volatile.Write(ref reading, 0);
                }
            });
        }

        return age is double value ? [new Measurement<double>(value)] : [];
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not read the changes feed's oldest pending event: {Reason}; not logged again until a read succeeds")]
    private static partial void LogReadFailed(ILogger logger, string reason);
}
