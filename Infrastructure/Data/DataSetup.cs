using System.Reflection;
using JasperFx;
using Marten;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;
using Weasel.Core;
using Weasel.Core.Migrations;

namespace SliceApi.Infrastructure.Data;

/// <summary>Registers Marten's document sessions, the start-up schema step and the database health check.</summary>
internal static class DataSetup
{
    /// <summary>Health-check tag of the checks that <c>/health/ready</c> runs.</summary>
    public const string ReadyTag = "ready";

    /// <summary>
    /// Registers the document sessions on the server chosen by <see cref="PostgresConnectionSource"/>: Marten's
    /// <see cref="IDocumentSession"/> (writes) and <see cref="IQuerySession"/> (reads), lightweight and scoped (see
    /// <c>RequestSessionFactory</c>), with every document mapped by the <see cref="IConfigureMarten"/> classes of the
    /// feature folders, and Marten's async daemon (hot/cold). The data steps (<see cref="IDataMigration"/>) run after the
    /// schema step. A hosted service resolves the server (creating the database) before anything else starts; then
    /// Marten applies its schema changes under its advisory lock (with <c>Database:MigrateOnStartup</c>), or, with
    /// <c>Database:VerifySchemaOnStartup</c>, refuses to start on a schema that lacks what the mappings need (extras a
    /// newer release added are fine: <see cref="SchemaCompatibility"/>). Also the
    /// <c>database</c> health check.
    /// </summary>
    public static IServiceCollection AddData(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<DatabaseOptions>().BindConfiguration(DatabaseOptions.Section);
        services.AddSingleton<PostgresConnectionSource>();
        services.AddSingleton<DatabaseOutage>();
        // The LISTEN side of revocation messages (Security/Revocations.cs) needs the server, so it is registered with it.
        services.AddHostedService<SliceApi.Infrastructure.Security.RevocationListener>();
        services.AddHttpContextAccessor(); // RequestSessionFactory reads the request's RequestTransaction
        // One connection pool for Marten, request transactions and the health check, built once the server is resolved.
        var database = configuration.GetSection(DatabaseOptions.Section).Get<DatabaseOptions>() ?? new DatabaseOptions();
        services.AddSingleton(provider => CreateDataSource(provider.GetRequiredService<PostgresConnectionSource>().ConnectionString, database));
        var marten = services.AddMarten(provider =>
            {
                var options = new StoreOptions();
                options.UseSystemTextJsonForSerialization(EnumStorage.AsString, Casing.CamelCase);
                // Only the start-up step (or the migrate command) changes the schema; never a request.
                options.AutoCreateSchemaObjects = database.MigrateOnStartup ? AutoCreate.CreateOrUpdate : AutoCreate.None;
                return options;
            })
            .BuildSessionsWith<RequestSessionFactory>()
            .UseNpgsqlDataSource()
            // Subscriptions run on one instance at a time, elected through a PostgreSQL advisory lock; its high-water
            // mark is what the changes feed reads below.
            .AddAsyncDaemon(JasperFx.Events.Daemon.DaemonMode.HotCold);
        if (database.MigrateOnStartup)
        {
            marten.ApplyAllDatabaseChangesOnStartup();
        }

        foreach (var mapping in Assembly.GetExecutingAssembly().GetTypes()
                     .Where(t => t is { IsAbstract: false, IsInterface: false } && typeof(IConfigureMarten).IsAssignableFrom(t)))
        {
            services.AddSingleton(typeof(IConfigureMarten), mapping);
        }

        foreach (var step in Assembly.GetExecutingAssembly().GetTypes()
                     .Where(t => t is { IsAbstract: false, IsInterface: false } && typeof(IDataMigration).IsAssignableFrom(t)))
        {
            services.AddSingleton(typeof(IDataMigration), step);
        }

        if (database.MigrateOnStartup)
        {
            services.AddHostedService<DataMigrationStartup>(); // after Marten's schema step, registered above
        }

        // Marten puts its start-up service first; the server must be resolved (the database created) before it.
        services.Insert(0, ServiceDescriptor.Singleton<IHostedService, DatabaseStartup>());
        if (!database.MigrateOnStartup && database.VerifySchemaOnStartup)
        {
            services.Insert(1, ServiceDescriptor.Singleton<IHostedService, SchemaVerification>());
        }

        services.AddHealthChecks().AddCheck<DatabaseHealthCheck>("database", tags: [ReadyTag]);
        return services;
    }

    /// <summary>
    /// The connection pool on <paramref name="connectionString"/>, with Npgsql's automatic preparation at
    /// <see cref="DatabaseOptions.MaxAutoPrepare"/> statements per connection unless the connection string sets its own.
    /// </summary>
    internal static NpgsqlDataSource CreateDataSource(string connectionString, DatabaseOptions database)
    {
        var builder = new NpgsqlDataSourceBuilder(connectionString);
        if (builder.ConnectionStringBuilder.MaxAutoPrepare == 0)
        {
            builder.ConnectionStringBuilder.MaxAutoPrepare = database.MaxAutoPrepare;
        }

        return builder.Build();
    }
}

/// <summary>Resolves the database (starting the private cluster, creating the database) before anything uses it.</summary>
internal sealed class DatabaseStartup(PostgresConnectionSource connections) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => connections.ResolveAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>
/// Healthy when the database answers and its schema holds what the document mappings need (a newer release's additions
/// allowed). The schema is compared (Marten's migration check, some tens of milliseconds) until it first serves; after
/// that each check is a <c>SELECT 1</c>.
/// </summary>
internal sealed class DatabaseHealthCheck(NpgsqlDataSource dataSource, IDocumentStore store) : IHealthCheck
{
    private volatile bool schemaMatched;

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await using var command = dataSource.CreateCommand("SELECT 1");
            await command.ExecuteScalarAsync(cancellationToken);
            if (!schemaMatched)
            {
                if (await SchemaCompatibility.MissingAsync(store, cancellationToken) is { Count: > 0 })
                {
                    return HealthCheckResult.Unhealthy("The database schema lacks what the document mappings need; run 'migrate'.");
                }

                schemaMatched = true;
            }

            return HealthCheckResult.Healthy();
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException)
        {
            // The reason without the exception: the health check service would log its stack trace on every probe.
            return HealthCheckResult.Unhealthy($"The database does not answer: {e.GetBaseException().Message}");
        }
    }
}
