using Npgsql;

namespace SliceApi.Infrastructure.Data;

/// <summary>
/// Whether PostgreSQL answers, as requests find out. The first request that cannot reach it starts an outage: one
/// warning is logged, requests meanwhile get 503 problems with <c>Retry-After: <see cref="RetryAfterSeconds"/></c>
/// (Errors/ApiExceptionHandler.cs) and no log line each, and a probe asks the server every second; its first answer
/// ends the outage with one information line and drops the pooled connections the restart broke, so the next requests
/// open fresh ones. So an outage is two log lines per instance, not a stack trace per request.
/// </summary>
internal sealed partial class DatabaseOutage(NpgsqlDataSource data, IHostApplicationLifetime lifetime, ILogger<DatabaseOutage> logger)
{
    /// <summary>The <c>Retry-After</c> of a 503 while the database is unreachable, in seconds.</summary>
    public const int RetryAfterSeconds = 2;

    private int down;

    /// <summary>Whether an outage is in progress.</summary>
    public bool IsDown => Volatile.Read(ref down) == 1;

    /// <summary>
    /// Whether <paramref name="exception"/>, or one it wraps, says the server could not be reached: a transient Npgsql
    /// failure, or, with several hosts in the connection string (a replicated database), no host that is what
    /// <c>Target Session Attributes</c> asks for. That is a failover under way: the primary is gone and the standby not
    /// yet promoted. Npgsql then throws a plain <see cref="NpgsqlException"/> that says so, without an inner exception
    /// when every host it reached was of the wrong kind, or wrapping an <see cref="AggregateException"/> of each host's
    /// failure (its <c>NpgsqlMultiHostDataSource</c>).
    /// </summary>
    public static bool IsUnreachable(Exception exception)
    {
        for (var current = exception; current is not null; current = current.InnerException)
        {
            switch (current)
            {
                case NpgsqlException { IsTransient: true }:
                    return true;
                case NpgsqlException { InnerException: null } when current.GetType() == typeof(NpgsqlException)
                                                                   && current.Message.StartsWith(NoSuitableHost, StringComparison.Ordinal):
                    return true;
                case AggregateException aggregate when aggregate.InnerExceptions.Count > 0:
                    return aggregate.InnerExceptions.All(IsUnreachable);
            }
        }

        return false;
    }

    // Npgsql's message when no host of a multi-host connection string has the session attributes asked for.
    private const string NoSuitableHost = "No suitable host was found.";

    /// <summary>Records a request that could not reach the database; the first of an outage logs it and starts the probe.</summary>
    public void Report(Exception exception)
    {
        if (Interlocked.Exchange(ref down, 1) == 0)
        {
            LogUnreachable(logger, exception.GetBaseException().Message);
            _ = ProbeUntilReachableAsync();
        }
    }

    private async Task ProbeUntilReachableAsync()
    {
        var started = DateTime.UtcNow;
        var stopping = lifetime.ApplicationStopping;
        while (true)
        {
            try
            {
                await Task.Delay(TimeSpan.FromSeconds(1), stopping);
                await using var command = data.CreateCommand("SELECT 1");
                await command.ExecuteScalarAsync(stopping);
            }
            catch (Exception exception) when (exception is OperationCanceledException or ObjectDisposedException)
            {
                return; // the host is stopping
            }
            catch (Exception)
            {
                continue; // unreachable, or answering with an error: either way not back yet, and the outage stays logged once
            }

            data.Clear(); // idle connections from before the outage are dead
            Volatile.Write(ref down, 0);
            LogReachable(logger, (DateTime.UtcNow - started).TotalSeconds);
            return;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The database is unreachable ({Reason}); requests get 503 until it answers again")]
    private static partial void LogUnreachable(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "The database answers again after {Seconds:F0} s")]
    private static partial void LogReachable(ILogger logger, double seconds);
}
