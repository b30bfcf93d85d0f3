using Npgsql;
using Microsoft.AspNetCore.Hosting;
using SliceApi.Infrastructure.Data;

[assembly: AssemblyFixture(typeof(SliceApi.Tests.Support.TestDatabaseServer))]

namespace SliceApi.Tests.Support;

/// <summary>
/// One PostgreSQL server for the whole test run: a throwaway private cluster on /dev/shm (fsync off),
/// or the server named by the environment variable SLICEAPI_TEST_POSTGRES (a connection string whose
/// user may create databases). A template database, whose schema the app applied at its start-up, is built once;
/// every test class clones it.
/// </summary>
public sealed class TestDatabaseServer : IAsyncLifetime
{
    private static readonly SemaphoreSlim CloneGate = new(1, 1);
    private static TestDatabaseServer? current;
    private readonly string templateName = $"sliceapi_template_{Guid.NewGuid():N}"[..30];
    private LocalPostgresCluster? cluster;
    private string? clusterRoot;
    private string adminConnectionString = string.Empty;

    /// <summary>The server of this test run, started by xunit before any test.</summary>
    public static TestDatabaseServer Current => current ?? throw new InvalidOperationException("The assembly fixture has not started.");

    public async ValueTask InitializeAsync()
    {
        var external = Environment.GetEnvironmentVariable("SLICEAPI_TEST_POSTGRES");
        if (!string.IsNullOrWhiteSpace(external))
        {
            adminConnectionString = external;
        }
        else
        {
            clusterRoot = Path.Combine(Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath(), $"sliceapi-test-{Guid.NewGuid():N}"[..22]);
            cluster = await LocalPostgresCluster.StartAsync(clusterRoot, durable: false, CancellationToken.None);
            adminConnectionString = cluster.ConnectionString("postgres");
        }

        await ExecuteAsync($"CREATE DATABASE {templateName}");
        // The app builds its own schema, as at any start-up: Marten applies the document mappings.
        await using (await Alba.AlbaHost.For<Program>(builder =>
        {
            builder.UseEnvironment("Testing");
            builder.UseSetting("ConnectionStrings:Postgres", ConnectionStringFor(templateName));
            builder.UseSetting("Jwt:SigningKey", Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(48)));
            builder.UseSetting("Logging:LogLevel:Default", "Warning");
            builder.UseSetting("Shutdown:DrainSeconds", "0");
        }))
        {
        }

        await ExecuteAsync($"ALTER DATABASE {templateName} WITH IS_TEMPLATE true ALLOW_CONNECTIONS false");
        NpgsqlConnection.ClearAllPools();
        // Marten's async daemon may still hold its connections of the stopped host for a moment (its LISTEN wake-up,
        // its leadership lock): a template with connections cannot be cloned.
        await ExecuteAsync($"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{templateName}' AND pid <> pg_backend_pid()");
        current = this;
    }

    /// <summary>Creates a database cloned from the migrated template (about 80 ms).</summary>
    /// <returns>Its connection string.</returns>
    public Task<string> CreateMigratedDatabaseAsync() => CreateDatabaseAsync(templateName);

    /// <summary>Creates an empty database (no schema applied).</summary>
    /// <returns>Its connection string.</returns>
    public Task<string> CreateEmptyDatabaseAsync() => CreateDatabaseAsync("template0");

    /// <summary>Drops a database made by this class, closing its connections.</summary>
    public async Task DropDatabaseAsync(string connectionString)
    {
        var name = new NpgsqlConnectionStringBuilder(connectionString).Database!;
        using (var connection = new NpgsqlConnection(connectionString))
        {
            NpgsqlConnection.ClearPool(connection);
        }

        await ExecuteAsync($"DROP DATABASE IF EXISTS {name} WITH (FORCE)");
    }

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        if (cluster is not null)
        {
            await cluster.DisposeAsync();
            Directory.Delete(clusterRoot!, recursive: true);
        }
        else if (adminConnectionString.Length > 0)
        {
            await ExecuteAsync($"ALTER DATABASE {templateName} WITH IS_TEMPLATE false");
            await ExecuteAsync($"DROP DATABASE IF EXISTS {templateName} WITH (FORCE)");
        }
    }

    private async Task<string> CreateDatabaseAsync(string template)
    {
        var name = $"sliceapi_test_{Guid.NewGuid():N}";
        await CloneGate.WaitAsync();
        try
        {
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    await ExecuteAsync($"CREATE DATABASE {name} TEMPLATE {template}");
                    break;
                }
                catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.ObjectInUse && attempt < 10)
                {
                    await Task.Delay(50 * attempt); // 55006: something still holds a connection to the template
                }
            }
        }
        finally
        {
            CloneGate.Release();
        }

        return ConnectionStringFor(name);
    }

    private string ConnectionStringFor(string database) =>
        new NpgsqlConnectionStringBuilder(adminConnectionString) { Database = database }.ConnectionString;

    private async Task ExecuteAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(adminConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
