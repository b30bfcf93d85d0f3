using System.Diagnostics.Metrics;
using Marten;
using Npgsql;
using SliceApi.Infrastructure.Data;
using SliceApi.Infrastructure.Telemetry;

namespace SliceApi.Infrastructure.Security;

/// <summary>An in-process cache of credentials or account state that a revocation message must clear.</summary>
internal interface IRevocationSubscriber
{
    /// <summary>Forgets what is cached of one account or key.</summary>
    /// <param name="kind"><see cref="Revocations.Account"/> (id: the user id) or <see cref="Revocations.ApiKey"/> (id: the key's SHA-256 in hex).</param>
    /// <param name="id">Which one.</param>
    void Revoked(string kind, string id);

    /// <summary>Forgets everything (messages may have been missed while not listening).</summary>
    void ForgetAll();
}

/// <summary>
/// A feature's own NOTIFY channel, heard on the revocation listener's connection (one LISTEN connection per instance):
/// <see cref="Notified"/> gets each payload; <see cref="Lost"/> says messages may have been missed.
/// </summary>
internal interface INotificationSubscriber
{
    /// <summary>The channel, a plain lower-case identifier.</summary>
    string Channel { get; }

    /// <summary>A message arrived (on the connection's thread: return quickly).</summary>
    void Notified(string payload);

    /// <summary>The connection failed or came back: messages sent meanwhile were missed.</summary>
    void Lost();
}

/// <summary>
/// Revocation messages between instances, over PostgreSQL's LISTEN/NOTIFY on channel <see cref="Channel"/>: a change
/// that must end cached rights (an account deactivated, deleted, its role or password changed; an API key revoked)
/// queues a NOTIFY in the transaction that makes it, so every instance hears of it when, and only if, it commits,
/// typically within milliseconds (<see cref="RevocationListener"/>). Payload: <c>kind:id</c>, e.g.
/// <c>account:6f1c...</c>. Counted in <c>sliceapi.revocations.sent</c> (meter <c>SliceApi</c>, tag <c>kind</c>).
/// </summary>
internal sealed class Revocations(IMeterFactory meters)
{
    /// <summary>The NOTIFY channel.</summary>
    public const string Channel = "sliceapi_revocations";

    /// <summary>The kind of a message about a user account; the id is the user id.</summary>
    public const string Account = "account";

    /// <summary>The kind of a message about an API key; the id is the SHA-256 of its text in lower-case hex.</summary>
    public const string ApiKey = "api-key";

    private readonly Counter<long> sent = meters.ApiCounter(
        "sliceapi.revocations.sent", "{message}", "Revocation messages queued for other instances (sent when their transaction commits).");

    /// <summary>
    /// Queues the message in <paramref name="session"/>'s unit of work: it is sent by <c>SaveChangesAsync</c>'s commit.
    /// The caller still clears its own caches after saving, so its instance is exact at once.
    /// </summary>
    /// <param name="session">The session making the change.</param>
    /// <param name="kind"><see cref="Account"/> or <see cref="ApiKey"/>.</param>
    /// <param name="id">A user id (a GUID) or a key hash (hex), lower-case: it is written into the NOTIFY statement.</param>
    /// <exception cref="ArgumentException"><paramref name="kind"/> is unknown or <paramref name="id"/> holds other characters.</exception>
    public void Queue(IDocumentSession session, string kind, string id)
    {
        // NOTIFY takes no bind parameters, and a SELECT pg_notify(...) result would upset Marten's batched reads, so the
        // payload is spelled out, from a fixed kind and an id of [0-9a-f-] only.
        if (kind is not (Account or ApiKey) || id.Length is 0 or > 64 || !id.All(c => c is (>= '0' and <= '9') or (>= 'a' and <= 'f') or '-'))
        {
            throw new ArgumentException($"Not a revocation: '{kind}:{id}'.", nameof(id));
        }

        session.QueueSqlCommand($"NOTIFY {Channel}, '{kind}:{id}'");
        sent.Add(1, new KeyValuePair<string, object?>("kind", kind));
    }
}

/// <summary>
/// Listens on <see cref="Revocations.Channel"/> on a connection of its own and hands every message to the
/// <see cref="IRevocationSubscriber"/>s (counted in <c>sliceapi.revocations.received</c>). When the connection
/// fails it logs once, clears every cache (messages sent meanwhile are lost, and the caches would otherwise trust
/// them for up to their 30 seconds), retries every second, and logs once more when it listens again. The channels of
/// the <see cref="INotificationSubscriber"/>s are heard on the same connection.
/// </summary>
internal sealed partial class RevocationListener(
    PostgresConnectionSource database, IEnumerable<IRevocationSubscriber> subscribers, IEnumerable<INotificationSubscriber> channels,
    IMeterFactory meters, ILogger<RevocationListener> logger)
    : BackgroundService
{
    private readonly Counter<long> received = meters.ApiCounter(
        "sliceapi.revocations.received", "{message}", "Revocation messages received from any instance, this one included.");

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield(); // the host goes on starting; the server is resolved by then
        var failing = false;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                // Not pooled, with keepalives, so a connection lost without a TCP reset is noticed too.
                var settings = new NpgsqlConnectionStringBuilder(database.ConnectionString) { Pooling = false, KeepAlive = 10 };
                await using var connection = new NpgsqlConnection(settings.ConnectionString);
                await connection.OpenAsync(stoppingToken);
                connection.Notification += (_, message) => Dispatch(message.Channel, message.Payload);
                var listened = channels.Select(c => c.Channel).Prepend(Revocations.Channel).Distinct().Select(c => $"LISTEN {c}");
                await using (var listen = new NpgsqlCommand(string.Join("; ", listened), connection))
                {
                    await listen.ExecuteNonQueryAsync(stoppingToken);
                }

                foreach (var channel in channels)
                {
                    channel.Lost(); // whatever was sent before this connection listened was missed
                }

                if (failing)
                {
                    ForgetAll();
                    failing = false;
                    LogListening(logger);
                }

                while (true)
                {
                    await connection.WaitAsync(stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception exception) when (exception is NpgsqlException or IOException or TimeoutException or InvalidOperationException)
            {
                ForgetAll();
                if (!failing)
                {
                    failing = true;
                    LogListenFailed(logger, exception.Message);
                }

                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private void Dispatch(string channel, string payload)
    {
        if (channel != Revocations.Channel)
        {
            foreach (var subscriber in channels.Where(c => c.Channel == channel))
            {
                subscriber.Notified(payload);
            }

            return;
        }

        var separator = payload.IndexOf(':', StringComparison.Ordinal);
        if (separator <= 0)
        {
            return;
        }

        var kind = payload[..separator];
        received.Add(1, new KeyValuePair<string, object?>("kind", kind));
        foreach (var subscriber in subscribers)
        {
            subscriber.Revoked(kind, payload[(separator + 1)..]);
        }
    }

    private void ForgetAll()
    {
        foreach (var subscriber in subscribers)
        {
            subscriber.ForgetAll();
        }

        foreach (var channel in channels)
        {
            channel.Lost();
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Not listening for revocations ({Reason}); caches are cleared and the connection retried every second")]
    private static partial void LogListenFailed(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Listening for revocations again; caches were cleared")]
    private static partial void LogListening(ILogger logger);
}
