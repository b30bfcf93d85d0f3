using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace SliceApi.Features.Auth;

/// <summary>One failed login for an email (table <c>login_failures</c>).</summary>
internal sealed class LoginFailure
{
    public long Id { get; init; }

    /// <summary>Normalized (trimmed, lower-case); need not belong to an account.</summary>
    public required string Email { get; init; }

    /// <summary>UTC.</summary>
    public DateTimeOffset FailedAt { get; init; }
}

/// <summary>Maps <see cref="LoginFailure"/> onto the table created by migration 0003.</summary>
internal sealed class LoginFailureConfiguration : IEntityTypeConfiguration<LoginFailure>
{
    public void Configure(EntityTypeBuilder<LoginFailure> builder)
    {
        builder.ToTable("login_failures");
        builder.HasKey(f => f.Id);
        builder.Property(f => f.Id).HasColumnName("id").UseIdentityAlwaysColumn();
        builder.Property(f => f.Email).HasColumnName("email").HasMaxLength(254);
        builder.Property(f => f.FailedAt).HasColumnName("failed_at");
        builder.HasIndex(f => new { f.Email, f.FailedAt }).HasDatabaseName("ix_login_failures_email_failed_at");
        builder.HasIndex(f => f.FailedAt).HasDatabaseName("ix_login_failures_failed_at");
    }
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

    /// <summary>When the lock on <paramref name="email"/> ends (UTC), or null when it is not locked at <paramref name="now"/>.</summary>
    public static async Task<DateTimeOffset?> LockedUntilAsync(SliceApi.Infrastructure.Data.AppDbContext db, string email, DateTimeOffset now, CancellationToken ct)
    {
        var since = now - Window - Window;
        var recent = await db.Set<LoginFailure>()
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
    public static async Task RecordFailureAsync(SliceApi.Infrastructure.Data.AppDbContext db, string email, DateTimeOffset now, CancellationToken ct)
    {
        db.Add(new LoginFailure { Email = email, FailedAt = now });
        await db.SaveChangesAsync(ct);
        var expired = now - Window - Window;
        await db.Set<LoginFailure>().Where(f => f.FailedAt < expired).ExecuteDeleteAsync(ct);
    }

    /// <summary>Forgets the failures of an email after a successful login.</summary>
    public static Task ResetAsync(SliceApi.Infrastructure.Data.AppDbContext db, string email, CancellationToken ct) =>
        db.Set<LoginFailure>().Where(f => f.Email == email).ExecuteDeleteAsync(ct);
}
