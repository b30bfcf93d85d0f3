namespace SliceApi.Infrastructure.Data;

/// <summary>Timestamps as PostgreSQL's <c>timestamptz</c> stores them.</summary>
internal static class StoredTime
{
    /// <summary>
    /// Converts to UTC and truncates to whole microseconds (PostgreSQL's precision), so a value returned
    /// at creation equals the one read back later and keyset cursors round-trip exactly.
    /// </summary>
    public static DateTimeOffset ToStoredPrecision(this DateTimeOffset value)
    {
        var utc = value.ToUniversalTime();
        return utc.AddTicks(-(utc.Ticks % TimeSpan.TicksPerMicrosecond));
    }

    /// <summary>The current UTC time at stored precision.</summary>
    public static DateTimeOffset GetStoredUtcNow(this TimeProvider clock) => clock.GetUtcNow().ToStoredPrecision();
}
