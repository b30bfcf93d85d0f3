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
}
