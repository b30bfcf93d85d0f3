using Marten;
using SliceApi.Infrastructure.Data;

namespace SliceApi.Features.Auth;

/// <summary>One failed login for an email: a Marten document (table <c>mt_doc_loginfailure</c>).</summary>
public sealed class LoginFailure
{
    /// <summary>UUIDv7, assigned by Marten on store.</summary>
    public Guid Id { get; set; }

    /// <summary>Normalized (trimmed, lower-case); need not belong to an account.</summary>
    public required string Email { get; init; }

    /// <summary>UTC, microsecond precision.</summary>
    public DateTimeOffset FailedAt { get; init; }
}

/// <summary>
/// The storage of <see cref="LoginFailure"/>: email and time duplicated into columns, one index for the lockout count
/// (email, newest first) and one for the purge by age.
/// </summary>
internal sealed class LoginFailureMapping : IConfigureMarten
{
    public void Configure(IServiceProvider services, StoreOptions options) =>
        options.Schema.For<LoginFailure>()
            .Duplicate(f => f.Email, configure: ix => ix.Name = "ix_login_failure_email")
            .Duplicate(f => f.FailedAt, configure: ix => ix.Name = "ix_login_failure_failed_at")
            .Index([f => f.Email, f => f.FailedAt], ix => ix.Name = "ix_login_failure_email_failed_at");
}

/// <summary>
/// Account lockout (OWASP ASVS 4.0 V2.2.1): after <see cref="MaxFailures"/> failed logins for one email within
/// <see cref="Window"/>, every login for that email is refused for <see cref="Window"/> after the last failure,
/// without checking the password. Counting by email, not by account, makes a locked account and an unknown
/// email look the same.
/// </summary>
internal static class Lockout
{
    /// <summary>Failures that lock an email.</summary>
    public const int MaxFailures = 5;

    /// <summary>The window failures are counted in, and how long a lock lasts (15 minutes).</summary>
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(15);

    /// <summary>
    /// Makes logins for <paramref name="email"/> take turns between reading the failures and recording one: opens the
    /// session's transaction and takes a PostgreSQL advisory lock on the email, held until the session saves or is
    /// disposed. Without it a burst of guesses sent at once would all read fewer than <see cref="MaxFailures"/> failures
    /// and all be answered.
    /// </summary>
    public static Task TakeTurnAsync(IDocumentSession session, string email, CancellationToken ct) => session.TakeTurnAsync(7331, email, ct);

    /// <summary>When the lock on <paramref name="email"/> ends (UTC), or null when it is not locked at <paramref name="now"/>.</summary>
    public static async Task<DateTimeOffset?> LockedUntilAsync(IQuerySession session, string email, DateTimeOffset now, CancellationToken ct)
    {
        var since = now - Window - Window;
        var recent = await session.Query<LoginFailure>()
            .Where(f => f.Email == email && f.FailedAt > since)
            .OrderByDescending(f => f.FailedAt)
            .Take(MaxFailures)
            .Select(f => f.FailedAt)
            .ToListAsync(ct);
        if (recent.Count < MaxFailures || recent[0] - recent[^1] > Window)
        {
            return null;
        }

        var until = recent[0] + Window;
        return until > now ? until : null;
    }

    /// <summary>Records a failure and deletes failures too old to matter for anyone.</summary>
    public static Task RecordFailureAsync(IDocumentSession session, string email, DateTimeOffset now, CancellationToken ct)
    {
        session.Insert(new LoginFailure { Email = email, FailedAt = now });
        var expired = now - Window - Window;
        session.DeleteWhere<LoginFailure>(f => f.FailedAt < expired);
        return session.SaveChangesAsync(ct);
    }

    /// <summary>Forgets the failures of an email after a successful login.</summary>
    public static Task ResetAsync(IDocumentSession session, string email, CancellationToken ct)
    {
        session.DeleteWhere<LoginFailure>(f => f.Email == email);
        return session.SaveChangesAsync(ct);
    }
}
