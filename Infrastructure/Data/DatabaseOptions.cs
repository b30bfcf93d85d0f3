namespace SliceApi.Infrastructure.Data;

/// <summary>Database settings (configuration section <c>Database</c>; the connection string is <c>ConnectionStrings:Postgres</c>).</summary>
internal sealed class DatabaseOptions
{
    /// <summary>The configuration section name.</summary>
    public const string Section = "Database";

    /// <summary>Apply Marten's pending schema changes when the web host starts (default true). <c>dotnet run -- migrate</c> applies them on demand.</summary>
    public bool MigrateOnStartup { get; set; } = true;

    /// <summary>
    /// With <see cref="MigrateOnStartup"/> false: refuse to start when the database schema differs from the document
    /// mappings (default false). For production, where <c>dotnet SliceApi.dll migrate</c> applies the changes.
    /// </summary>
    public bool VerifySchemaOnStartup { get; set; }

    /// <summary>
    /// Where the private cluster lives when no connection string is set, relative to the content root
    /// (default <c>.data/postgres</c>, git-ignored).
    /// </summary>
    public string LocalDataDirectory { get; set; } = ".data/postgres";

    /// <summary>The database created in the private cluster (default <c>sliceapi</c>).</summary>
    public string LocalDatabaseName { get; set; } = "sliceapi";

    /// <summary>
    /// Npgsql's automatic preparation: how many statements each pooled connection keeps prepared on the server (default
    /// 64; 0 turns it off), applied when the connection string does not set <c>Max Auto Prepare</c> itself. Besides
    /// skipping the parse and plan of the statements a request repeats, it changes how Npgsql resets a connection
    /// returned to the pool: without prepared statements it sends <c>DISCARD ALL</c>, which also drops every cached plan
    /// of the session, so each request re-planned Marten's event-append function and the foreign-key checks; with them
    /// it resets the session's state (settings, advisory locks, LISTEN, temporary tables) and keeps the plans. Measured
    /// in the README's Performance section.
    /// </summary>
    public int MaxAutoPrepare { get; set; } = 64;
}
