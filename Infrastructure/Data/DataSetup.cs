using System.Reflection;
using JasperFx;
using Marten;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Npgsql;
using Weasel.Core;

namespace SliceApi.Infrastructure.Data;

/// <summary>Registers the data sessions (Marten documents; EF Core for the tables not yet moved), the start-up schema steps and the database health checks.</summary>
internal static class DataSetup
{
    /// <summary>Health-check tag of the checks that <c>/health/ready</c> runs.</summary>
    public const string ReadyTag = "ready";

    /// <summary>
    /// Registers the data sessions on the server chosen by <see cref="PostgresConnectionSource"/>: Marten's
    /// <see cref="IDocumentSession"/> (writes) and <see cref="IQuerySession"/> (reads), lightweight and scoped, with every
    /// document mapped by the <see cref="IConfigureMarten"/> classes of the feature folders; and, for the tables not yet
    /// moved onto documents, a pooled <see cref="AppDbContext"/> with every <see cref="IInterceptor"/> registered as a
    /// singleton (none by default; the query-plan tests add one). A hosted service resolves the server (and applies the
    /// SQL migrations, unless <c>Database:MigrateOnStartup</c> is false) before anything else starts; then Marten applies
    /// its schema changes under its advisory lock (with <c>MigrateOnStartup</c>), or, with
    /// <c>Database:VerifySchemaOnStartup</c>, refuses to start on a schema that differs from the mapping. Also the
    /// <c>database</c> and <c>migrations</c> health checks.
    /// </summary>
    public static IServiceCollection AddData(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<DatabaseOptions>().BindConfiguration(DatabaseOptions.Section);
        services.AddSingleton<PostgresConnectionSource>();
        // One connection pool for Marten, EF Core and the health checks, built once the server is resolved.
        services.AddSingleton(provider => NpgsqlDataSource.Create(provider.GetRequiredService<PostgresConnectionSource>().ConnectionString));
        var database = configuration.GetSection(DatabaseOptions.Section).Get<DatabaseOptions>() ?? new DatabaseOptions();
        var marten = services.AddMarten(provider =>
            {
                var options = new StoreOptions();
                options.UseSystemTextJsonForSerialization(EnumStorage.AsString, Casing.CamelCase);
                // Only the start-up step (or the migrate command) changes the schema; never a request.
                options.AutoCreateSchemaObjects = database.MigrateOnStartup ? AutoCreate.CreateOrUpdate : AutoCreate.None;
                return options;
            })
            .UseLightweightSessions()
            .UseNpgsqlDataSource();
        if (database.MigrateOnStartup)
        {
            marten.ApplyAllDatabaseChangesOnStartup();
        }
        else if (database.VerifySchemaOnStartup)
        {
            marten.AssertDatabaseMatchesConfigurationOnStartup();
        }

        foreach (var mapping in Assembly.GetExecutingAssembly().GetTypes()
                     .Where(t => t is { IsAbstract: false, IsInterface: false } && typeof(IConfigureMarten).IsAssignableFrom(t)))
        {
            services.AddSingleton(typeof(IConfigureMarten), mapping);
        }

        // Marten puts its start-up service first; the server must be resolved (the database created) before it, so
        // that goes in front of it, and the SQL migrations, whose tables refer to document tables, come after it.
        services.Insert(0, ServiceDescriptor.Singleton<IHostedService, DatabaseStartup>());
        services.AddHostedService<SqlMigrationStartup>();
        services.AddDbContextPool<AppDbContext>((provider, options) => options
            .UseNpgsql(provider.GetRequiredService<NpgsqlDataSource>())
            .UseQueryTrackingBehavior(QueryTrackingBehavior.NoTracking)
            .AddInterceptors(provider.GetServices<IInterceptor>()));
        services.AddHealthChecks()
            .AddDbContextCheck<AppDbContext>("database", tags: [ReadyTag])
            .AddCheck<MigrationsHealthCheck>("migrations", tags: [ReadyTag]);
        return services;
    }
}

/// <summary>Resolves the database (starting the private cluster, creating the database) before anything uses it.</summary>
internal sealed class DatabaseStartup(PostgresConnectionSource connections) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => connections.ResolveAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>
/// Applies the pending SQL migrations (unless <c>Database:MigrateOnStartup</c> is false) after Marten's schema step and
/// before the web server starts listening.
/// </summary>
internal sealed partial class SqlMigrationStartup(
    PostgresConnectionSource connections,
    IOptions<DatabaseOptions> options,
    ILogger<SqlMigrationStartup> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (options.Value.MigrateOnStartup)
        {
            var applied = await MigrationRunner.MigrateAsync(connections.ConnectionString, cancellationToken);
            LogMigrated(logger, applied.Count, applied);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information, Message = "Database ready; {Count} migration(s) applied now: {Ids}")]
    private static partial void LogMigrated(ILogger logger, int count, IReadOnlyList<string> ids);
}

/// <summary>Healthy when every embedded migration has been applied to the database.</summary>
internal sealed class MigrationsHealthCheck(NpgsqlDataSource dataSource) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var pending = await MigrationRunner.GetPendingAsync(connection, cancellationToken);
        return pending.Count == 0
            ? HealthCheckResult.Healthy()
            : HealthCheckResult.Unhealthy($"Pending migrations: {string.Join(", ", pending)}");
    }
}
