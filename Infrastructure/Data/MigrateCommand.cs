using SliceApi.Infrastructure.Cli;

namespace SliceApi.Infrastructure.Data;

/// <summary><c>dotnet run -- migrate</c>: applies pending migrations and exits.</summary>
internal sealed class MigrateCommand : ICliCommand
{
    public string Name => "migrate";

    public async Task<int> RunAsync(IReadOnlyList<string> arguments, IServiceProvider services, CancellationToken cancellationToken)
    {
        var connectionString = services.GetRequiredService<PostgresConnectionSource>().ConnectionString;
        var applied = await MigrationRunner.MigrateAsync(connectionString, cancellationToken);
        Console.WriteLine(applied.Count == 0
            ? "The database schema is up to date."
            : $"Applied {applied.Count} migration(s): {string.Join(", ", applied)}");
        return 0;
    }
}
