using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using Npgsql;

namespace SliceApi.Infrastructure.Data;

/// <summary>One versioned SQL migration, embedded from <c>Infrastructure/Data/Migrations/&lt;id&gt;.sql</c>.</summary>
/// <param name="Id">The file name without <c>.sql</c>, e.g. <c>0001_initial</c>; migrations run in ordinal order of ids.</param>
/// <param name="Sql">The script.</param>
/// <param name="Checksum">SHA-256 of the script, hex; an applied migration whose file changed is refused.</param>
public sealed record Migration(string Id, string Sql, string Checksum);

/// <summary>
/// Applies the embedded SQL migrations: each file once, in order, each in its own transaction,
/// recorded in the table <c>schema_migrations</c>. A session-level PostgreSQL advisory lock
/// serialises runners, so two instances starting together cannot both migrate.
/// </summary>
public static class MigrationRunner
{
    // Arbitrary constant shared by every SliceApi instance: the key of pg_advisory_lock.
    private const long AdvisoryLockKey = 0x51_1CE_A91_0001;
    private const string ResourcePrefix = "Migrations/";

    /// <summary>The migrations embedded in this assembly, ordered by id.</summary>
    public static IReadOnlyList<Migration> Embedded { get; } = LoadEmbedded(typeof(MigrationRunner).Assembly);

    /// <summary>Applies every pending migration from <paramref name="migrations"/> (default: <see cref="Embedded"/>).</summary>
    /// <returns>The ids applied by this call, in order; empty when the schema was up to date.</returns>
    /// <exception cref="MigrationConflictException">An applied migration's file has changed since it ran.</exception>
    /// <exception cref="PostgresException">A migration failed; its transaction is rolled back and later ones are not run.</exception>
    public static async Task<IReadOnlyList<string>> MigrateAsync(
        string connectionString, CancellationToken cancellationToken, IReadOnlyList<Migration>? migrations = null)
    {
        migrations ??= Embedded;
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        await ExecuteAsync(connection, $"SELECT pg_advisory_lock({AdvisoryLockKey})", cancellationToken);
        try
        {
            await ExecuteAsync(connection, """
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    id text PRIMARY KEY,
                    checksum text NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now())
                """, cancellationToken);

            var applied = await ReadAppliedAsync(connection, cancellationToken);
            foreach (var migration in migrations)
            {
                if (applied.TryGetValue(migration.Id, out var checksum) && checksum != migration.Checksum)
                {
                    throw new MigrationConflictException(
                        $"Migration {migration.Id} was changed after it was applied. Add a new migration instead of editing an applied one.");
                }
            }

            var newlyApplied = new List<string>();
            foreach (var migration in migrations.Where(m => !applied.ContainsKey(m.Id)))
            {
                await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
                await ExecuteAsync(connection, migration.Sql, cancellationToken, transaction);
                await using var record = new NpgsqlCommand("INSERT INTO schema_migrations (id, checksum) VALUES ($1, $2)", connection, transaction)
                {
                    Parameters = { new() { Value = migration.Id }, new() { Value = migration.Checksum } },
                };
                await record.ExecuteNonQueryAsync(cancellationToken);
                await transaction.CommitAsync(cancellationToken);
                newlyApplied.Add(migration.Id);
            }

            return newlyApplied;
        }
        finally
        {
            await ExecuteAsync(connection, $"SELECT pg_advisory_unlock({AdvisoryLockKey})", CancellationToken.None);
        }
    }

    /// <summary>The ids of <see cref="Embedded"/> migrations not yet recorded in <c>schema_migrations</c>.</summary>
    public static async Task<IReadOnlyList<string>> GetPendingAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var exists = new NpgsqlCommand("SELECT to_regclass('schema_migrations') IS NOT NULL", connection);
        if (!(bool)(await exists.ExecuteScalarAsync(cancellationToken))!)
        {
            return Embedded.Select(m => m.Id).ToList();
        }

        var applied = await ReadAppliedAsync(connection, cancellationToken);
        return Embedded.Where(m => !applied.ContainsKey(m.Id)).Select(m => m.Id).ToList();
    }

    /// <summary>Reads the <c>*.sql</c> resources named <c>Migrations/&lt;id&gt;.sql</c> from <paramref name="assembly"/>.</summary>
    public static IReadOnlyList<Migration> LoadEmbedded(Assembly assembly)
    {
        ArgumentNullException.ThrowIfNull(assembly);
        return assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith(ResourcePrefix, StringComparison.Ordinal) && n.EndsWith(".sql", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .Select(name =>
            {
                using var stream = assembly.GetManifestResourceStream(name)!;
                using var reader = new StreamReader(stream, Encoding.UTF8);
                var sql = reader.ReadToEnd();
                return Create(name[ResourcePrefix.Length..^".sql".Length], sql);
            })
            .ToList();
    }

    /// <summary>Builds a migration from its id and script, computing the checksum.</summary>
    public static Migration Create(string id, string sql) =>
        new(id, sql, Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(sql.ReplaceLineEndings("\n")))));

    private static async Task<Dictionary<string, string>> ReadAppliedAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        var applied = new Dictionary<string, string>(StringComparer.Ordinal);
        await using var query = new NpgsqlCommand("SELECT id, checksum FROM schema_migrations", connection);
        await using var reader = await query.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            applied[reader.GetString(0)] = reader.GetString(1);
        }

        return applied;
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken, NpgsqlTransaction? transaction = null)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}

/// <summary>
/// An applied migration's file no longer matches what was applied (its SHA-256 checksum differs): the database and
/// the code disagree, and only a new migration can reconcile them. Start-up reports it in one line and exits 1.
/// </summary>
internal sealed class MigrationConflictException(string message) : InvalidOperationException(message);
