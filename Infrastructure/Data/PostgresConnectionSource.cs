using Microsoft.Extensions.Options;
using Npgsql;

namespace SliceApi.Infrastructure.Data;

/// <summary>
/// Decides which PostgreSQL server the API uses, once per process: <c>ConnectionStrings:Postgres</c>
/// when set, otherwise a private cluster started from the installed server binaries
/// (<see cref="LocalPostgresCluster"/>). Either way the database is created if it does not exist.
/// </summary>
internal sealed partial class PostgresConnectionSource(
    IConfiguration configuration,
    IOptions<DatabaseOptions> options,
    IHostEnvironment environment,
    ILogger<PostgresConnectionSource> logger) : IAsyncDisposable
{
    private readonly SemaphoreSlim gate = new(1, 1);
    private string? connectionString;
    private LocalPostgresCluster? cluster;

    /// <summary>The resolved connection string.</summary>
    /// <exception cref="InvalidOperationException"><see cref="ResolveAsync"/> has not completed yet.</exception>
    public string ConnectionString => connectionString
        ?? throw new InvalidOperationException("The database connection is resolved when the host starts; it has not started yet.");

    /// <summary>Resolves the connection string, starting the private cluster if needed, and checks that the server answers.</summary>
    /// <exception cref="DatabaseUnavailableException">No server is configured and none can be started, or the configured one does not answer.</exception>
    public async Task<string> ResolveAsync(CancellationToken cancellationToken)
    {
        if (connectionString is not null)
        {
            return connectionString;
        }

        await gate.WaitAsync(cancellationToken);
        try
        {
            if (connectionString is not null)
            {
                return connectionString;
            }

            var configured = configuration.GetConnectionString("Postgres");
            string candidate;
            if (!string.IsNullOrWhiteSpace(configured))
            {
                candidate = configured;
            }
            else
            {
                var root = Path.GetFullPath(options.Value.LocalDataDirectory, environment.ContentRootPath);
                LogStartingLocalCluster(logger, root);
                try
                {
                    cluster = await LocalPostgresCluster.StartAsync(root, durable: true, cancellationToken);
                }
                catch (InvalidOperationException e)
                {
                    throw new DatabaseUnavailableException(
                        $"No PostgreSQL connection string is set (ConnectionStrings__Postgres) and a private cluster could not be started: {e.Message}", e);
                }

                if (cluster.RootDirectory != root)
                {
                    LogMovedLocalCluster(logger, root, cluster.RootDirectory);
                }

                candidate = cluster.ConnectionString(options.Value.LocalDatabaseName);
            }

            await EnsureDatabaseExistsAsync(candidate, cancellationToken);
            connectionString = candidate;
            return candidate;
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>Stops the private cluster if this process started it.</summary>
    public async ValueTask DisposeAsync()
    {
        if (cluster is not null)
        {
            await cluster.DisposeAsync();
        }

        gate.Dispose();
    }

    private static async Task EnsureDatabaseExistsAsync(string connectionString, CancellationToken cancellationToken)
    {
        var target = new NpgsqlConnectionStringBuilder(connectionString);
        try
        {
            await using var connection = new NpgsqlConnection(connectionString);
            await connection.OpenAsync(cancellationToken);
            return;
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.InvalidCatalogName)
        {
            // The server answers but the database is missing: create it below.
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException)
        {
            throw new DatabaseUnavailableException(
                $"Could not connect to PostgreSQL at {Describe(target)}: {e.Message} " +
                "Check that the server runs and that ConnectionStrings__Postgres is right, or unset it to use a private cluster.", e);
        }

        var admin = new NpgsqlConnectionStringBuilder(connectionString) { Database = "postgres", Pooling = false };
        await using var adminConnection = new NpgsqlConnection(admin.ConnectionString);
        await adminConnection.OpenAsync(cancellationToken);
        await using var create = new NpgsqlCommand($"CREATE DATABASE \"{target.Database!.Replace("\"", "\"\"", StringComparison.Ordinal)}\"", adminConnection);
        try
        {
            await create.ExecuteNonQueryAsync(cancellationToken);
        }
        catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.DuplicateDatabase or PostgresErrorCodes.UniqueViolation)
        {
            // Another instance created it first.
        }
    }

    // Never includes the password.
    private static string Describe(NpgsqlConnectionStringBuilder builder) =>
        $"Host={builder.Host};Port={builder.Port};Database={builder.Database};Username={builder.Username}";

    [LoggerMessage(Level = LogLevel.Information, Message = "No ConnectionStrings:Postgres is set; using the private PostgreSQL cluster in {Directory}")]
    private static partial void LogStartingLocalCluster(ILogger logger, string directory);

    [LoggerMessage(Level = LogLevel.Information, Message = "The postgres OS user cannot reach {Requested}, so the private cluster lives in {Actual}")]
    private static partial void LogMovedLocalCluster(ILogger logger, string requested, string actual);
}

/// <summary>The API cannot reach a PostgreSQL server; the message says what to install or set.</summary>
public sealed class DatabaseUnavailableException : Exception
{
    /// <summary>Creates the exception.</summary>
    public DatabaseUnavailableException(string message, Exception? innerException = null) : base(message, innerException)
    {
    }

    /// <summary>Creates the exception with a generic message.</summary>
    public DatabaseUnavailableException() : base("The database is unavailable.")
    {
    }

    /// <summary>Creates the exception.</summary>
    public DatabaseUnavailableException(string message) : base(message)
    {
    }
}
