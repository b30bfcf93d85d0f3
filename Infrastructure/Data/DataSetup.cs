using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Npgsql;

namespace SliceApi.Infrastructure.Data;

/// <summary>Registers the data session (EF Core on PostgreSQL), start-up migration and the database health checks.</summary>
internal static class DataSetup
{
    /// <summary>Health-check tag of the checks that <c>/health/ready</c> runs.</summary>
    public const string ReadyTag = "ready";

    /// <summary>
    /// Registers a pooled <see cref="AppDbContext"/> on the server chosen by <see cref="PostgresConnectionSource"/>,
    /// with every <see cref="IInterceptor"/> registered as a singleton (none by default; the query-plan tests add one),
    /// a hosted service that resolves it (and migrates, unless <c>Database:MigrateOnStartup</c> is false)
    /// before the server accepts requests, and the <c>database</c> and <c>migrations</c> health checks.
    /// </summary>
    public static IServiceCollection AddData(this IServiceCollection services)
    {
        services.AddOptions<DatabaseOptions>().BindConfiguration(DatabaseOptions.Section);
        services.AddSingleton<PostgresConnectionSource>();
        services.AddHostedService<DatabaseStartup>();
        services.AddDbContextPool<AppDbContext>((provider, options) => options
            .UseNpgsql(provider.GetRequiredService<PostgresConnectionSource>().ConnectionString)
            .UseQueryTrackingBehavior(QueryTrackingBehavior.NoTracking)
            .AddInterceptors(provider.GetServices<IInterceptor>()));
        services.AddHealthChecks()
            .AddDbContextCheck<AppDbContext>("database", tags: [ReadyTag])
            .AddCheck<MigrationsHealthCheck>("migrations", tags: [ReadyTag]);
        return services;
    }
}

/// <summary>Resolves the database and applies migrations before the web server starts listening.</summary>
internal sealed partial class DatabaseStartup(
    PostgresConnectionSource connections,
    IOptions<DatabaseOptions> options,
    ILogger<DatabaseStartup> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var connectionString = await connections.ResolveAsync(cancellationToken);
        if (options.Value.MigrateOnStartup)
        {
            var applied = await MigrationRunner.MigrateAsync(connectionString, cancellationToken);
            LogMigrated(logger, applied.Count, applied);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information, Message = "Database ready; {Count} migration(s) applied now: {Ids}")]
    private static partial void LogMigrated(ILogger logger, int count, IReadOnlyList<string> ids);
}

/// <summary>Healthy when every embedded migration has been applied to the database.</summary>
internal sealed class MigrationsHealthCheck(PostgresConnectionSource connections) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        await using var connection = new NpgsqlConnection(connections.ConnectionString);
        await connection.OpenAsync(cancellationToken);
        var pending = await MigrationRunner.GetPendingAsync(connection, cancellationToken);
        return pending.Count == 0
            ? HealthCheckResult.Healthy()
            : HealthCheckResult.Unhealthy($"Pending migrations: {string.Join(", ", pending)}");
    }
}
