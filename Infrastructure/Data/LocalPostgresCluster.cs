using System.Security.Cryptography;
using System.Text;
using Npgsql;

namespace SliceApi.Infrastructure.Data;

/// <summary>
/// A private PostgreSQL cluster run from the server binaries installed on this machine, for
/// development and tests when no server is configured. It listens on a Unix socket only (no TCP
/// port, so nothing clashes and nothing outside the machine can reach it), in a folder only the
/// cluster's owner can enter; the superuser is <c>postgres</c> with trust authentication.
/// </summary>
/// <remarks>
/// <c>initdb</c> and <c>postgres</c> refuse to run as root, so as root every command runs as the
/// <c>postgres</c> OS user through <c>runuser</c>.
/// </remarks>
public sealed class LocalPostgresCluster : IAsyncDisposable
{
    private const int Port = 5432;
    private readonly string binDirectory;
    private readonly string dataDirectory;
    private readonly bool ownsServer;

    private LocalPostgresCluster(string binDirectory, string dataDirectory, string socketDirectory, bool ownsServer)
    {
        this.binDirectory = binDirectory;
        this.dataDirectory = dataDirectory;
        this.ownsServer = ownsServer;
        SocketDirectory = socketDirectory;
    }

    /// <summary>The folder holding the cluster's files: the one asked for, or when run as root and the <c>postgres</c> user cannot reach it, <c>/var/tmp/sliceapi-pg-&lt;hash&gt;</c>.</summary>
    public string RootDirectory => Path.GetDirectoryName(dataDirectory)!;

    /// <summary>The folder holding the server's Unix socket; the <c>Host</c> of connection strings.</summary>
    public string SocketDirectory { get; }

    /// <summary>Whether this process runs as root, so PostgreSQL commands run as the <c>postgres</c> OS user.</summary>
    private static bool IsRoot => Environment.UserName == "root";

    /// <summary>
    /// Finds <c>initdb</c> and <c>pg_ctl</c>: the folder named by <c>SLICEAPI_PG_BIN</c>, the newest
    /// <c>/usr/lib/postgresql/&lt;version&gt;/bin</c> (Debian/Ubuntu package <c>postgresql</c>), or <c>PATH</c>.
    /// </summary>
    /// <returns>The folder, or null when no server binaries are installed.</returns>
    public static string? FindBinDirectory()
    {
        var candidates = new List<string>();
        if (Environment.GetEnvironmentVariable("SLICEAPI_PG_BIN") is { Length: > 0 } configured)
        {
            candidates.Add(configured);
        }

        if (Directory.Exists("/usr/lib/postgresql"))
        {
            candidates.AddRange(Directory.GetDirectories("/usr/lib/postgresql")
                .OrderByDescending(d => int.TryParse(Path.GetFileName(d), out var v) ? v : 0)
                .Select(d => Path.Combine(d, "bin")));
        }

        candidates.AddRange((Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(':', StringSplitOptions.RemoveEmptyEntries));
        return candidates.FirstOrDefault(d => File.Exists(Path.Combine(d, "initdb")) && File.Exists(Path.Combine(d, "pg_ctl")));
    }

    /// <summary>
    /// Starts the cluster whose files live under <paramref name="rootDirectory"/> (data in <c>data/</c>,
    /// log in <c>postgres.log</c>), creating it with <c>initdb</c> on first use. A cluster already running
    /// there is reused and left running on dispose. As root, when the <c>postgres</c> user cannot reach
    /// the folder (a checkout under <c>/root</c>), a folder under <c>/var/tmp</c> is used instead.
    /// </summary>
    /// <param name="rootDirectory">An absolute folder; created if missing.</param>
    /// <param name="durable">False turns off fsync, synchronous commit and full-page writes: for throwaway test clusters only.</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <exception cref="InvalidOperationException">No server binaries are installed, or a PostgreSQL command failed (the message holds its output).</exception>
    public static async Task<LocalPostgresCluster> StartAsync(string rootDirectory, bool durable, CancellationToken cancellationToken)
    {
        var bin = FindBinDirectory() ?? throw new InvalidOperationException(
            "No PostgreSQL server binaries were found (looked in $SLICEAPI_PG_BIN, /usr/lib/postgresql/*/bin and PATH). " +
            "Install them (Debian/Ubuntu: sudo apt-get install postgresql) or set ConnectionStrings__Postgres to a server you run.");

        Directory.CreateDirectory(rootDirectory);
        if (IsRoot && !await PostgresUserCanWriteAsync(rootDirectory, cancellationToken))
        {
            // A checkout under /root: the postgres user cannot reach it, so the cluster lives in a fixed folder per checkout instead.
            Directory.Delete(rootDirectory);
            rootDirectory = Path.Combine("/var/tmp", "sliceapi-pg-" + ShortHash(rootDirectory));
            Directory.CreateDirectory(rootDirectory);
            if (!await PostgresUserCanWriteAsync(rootDirectory, cancellationToken))
            {
                throw new InvalidOperationException(
                    $"The 'postgres' OS user cannot write to {rootDirectory}. Set Database:LocalDataDirectory to a folder it can reach, or set ConnectionStrings__Postgres.");
            }
        }

        var data = Path.Combine(rootDirectory, "data");
        var socket = SocketDirectoryFor(rootDirectory);
        Directory.CreateDirectory(socket);
        if (IsRoot)
        {
            await ProcessRunner.RunAsync("chown", ["postgres:postgres", socket], cancellationToken);
        }

        if (!File.Exists(Path.Combine(data, "PG_VERSION")))
        {
            await RunAsPostgresAsync(bin, "initdb", ["-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-locale"], cancellationToken);
            var settings = new StringBuilder()
                .AppendLine(CultureInfoInvariant($"port = {Port}"))
                .AppendLine("listen_addresses = ''")
                .AppendLine($"unix_socket_directories = '{socket.Replace("'", "''", StringComparison.Ordinal)}'")
                .AppendLine("unix_socket_permissions = 0700")
                .AppendLine("max_connections = 200");
            if (!durable)
            {
                settings.AppendLine("fsync = off").AppendLine("synchronous_commit = off").AppendLine("full_page_writes = off");
            }

            await File.AppendAllTextAsync(Path.Combine(data, "postgresql.conf"), settings.ToString(), cancellationToken);
        }

        // pg_ctl status: 0 running, 3 not running.
        var status = await RunAsPostgresAsync(bin, "pg_ctl", ["-D", data, "status"], cancellationToken, 3);
        if (status == 0)
        {
            return new LocalPostgresCluster(bin, data, socket, ownsServer: false);
        }

        await RunAsPostgresAsync(bin, "pg_ctl", ["-D", data, "-l", Path.Combine(rootDirectory, "postgres.log"), "-w", "-t", "60", "start"], cancellationToken);
        return new LocalPostgresCluster(bin, data, socket, ownsServer: true);
    }

    /// <summary>A connection string for <paramref name="database"/> as the superuser <c>postgres</c>, over the Unix socket.</summary>
    public string ConnectionString(string database) => new NpgsqlConnectionStringBuilder
    {
        Host = SocketDirectory,
        Port = Port,
        Username = "postgres",
        Database = database,
    }.ConnectionString;

    /// <summary>Stops the server (fast shutdown) if this instance started it.</summary>
    public async ValueTask DisposeAsync()
    {
        if (ownsServer)
        {
            NpgsqlConnection.ClearAllPools();
            await RunAsPostgresAsync(binDirectory, "pg_ctl", ["-D", dataDirectory, "-m", "fast", "-w", "-t", "30", "stop"], CancellationToken.None, 1, 3);
        }
    }

    // A Unix socket path is limited to 107 bytes; a deep checkout falls back to a short folder under /tmp.
    private static string SocketDirectoryFor(string rootDirectory)
    {
        var preferred = Path.Combine(rootDirectory, "run");
        if (preferred.Length <= 80)
        {
            return preferred;
        }

        return Path.Combine(Path.GetTempPath(), $"sliceapi-pg-{ShortHash(rootDirectory)}-run");
    }

    // As root: hands the folder to the postgres user and checks that user can reach it through every parent folder.
    private static async Task<bool> PostgresUserCanWriteAsync(string directory, CancellationToken cancellationToken)
    {
        await ProcessRunner.RunAsync("chown", ["postgres:postgres", directory], cancellationToken);
        return await ProcessRunner.RunAsync("runuser", ["-u", "postgres", "--", "test", "-w", directory], cancellationToken, 1) == 0;
    }

    private static string ShortHash(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..12];

    private static Task<int> RunAsPostgresAsync(string bin, string tool, IEnumerable<string> arguments, CancellationToken cancellationToken, params int[] acceptedExitCodes)
    {
        var path = Path.Combine(bin, tool);
        return IsRoot
            ? ProcessRunner.RunAsync("runuser", ["-u", "postgres", "--", path, .. arguments], cancellationToken, acceptedExitCodes)
            : ProcessRunner.RunAsync(path, arguments, cancellationToken, acceptedExitCodes);
    }

    private static string CultureInfoInvariant(FormattableString text) => FormattableString.Invariant(text);
}
