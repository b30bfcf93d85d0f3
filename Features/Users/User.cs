using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace SliceApi.Features.Users;

/// <summary>A registered account (table <c>users</c>).</summary>
internal sealed class User
{
    /// <summary>Hashes and verifies passwords: PBKDF2 with HMAC-SHA512, 100,000 iterations, 128-bit salt (ASP.NET Core Identity V3 format).</summary>
    public static readonly PasswordHasher<User> PasswordHasher = new();

    public Guid Id { get; init; }

    /// <summary>Trimmed and lower-cased; unique.</summary>
    public required string Email { get; init; }

    public required string DisplayName { get; set; }

    /// <summary>Output of <see cref="PasswordHasher"/>; never returned or logged.</summary>
    public string PasswordHash { get; set; } = string.Empty;

    /// <summary>One of <c>admin</c>, <c>user</c>, <c>guest</c>.</summary>
    public required string Role { get; set; }

    /// <summary>UTC.</summary>
    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>A deactivated account cannot log in, refresh, or use access tokens it already holds.</summary>
    public bool IsActive { get; set; } = true;

    /// <summary>Refresh tokens created before this instant (UTC) are refused; set when the password changes.</summary>
    public DateTimeOffset? TokensValidAfter { get; set; }

    /// <summary>The canonical form emails are stored and looked up in: trimmed, lower-case (invariant culture).</summary>
    public static string NormalizeEmail(string email) => email.Trim().ToLowerInvariant();
}

/// <summary>Maps <see cref="User"/> onto the table <c>users</c> created by migration 0001.</summary>
internal sealed class UserConfiguration : IEntityTypeConfiguration<User>
{
    public void Configure(EntityTypeBuilder<User> builder)
    {
        builder.ToTable("users");
        builder.HasKey(u => u.Id);
        builder.Property(u => u.Id).HasColumnName("id").ValueGeneratedNever();
        builder.Property(u => u.Email).HasColumnName("email").HasMaxLength(254);
        builder.HasIndex(u => u.Email).IsUnique().HasDatabaseName("ux_users_email");
        builder.Property(u => u.DisplayName).HasColumnName("display_name").HasMaxLength(100);
        builder.Property(u => u.PasswordHash).HasColumnName("password_hash");
        builder.Property(u => u.Role).HasColumnName("role").HasMaxLength(16);
        builder.Property(u => u.CreatedAt).HasColumnName("created_at");
        builder.Property(u => u.IsActive).HasColumnName("is_active");
        builder.Property(u => u.TokensValidAfter).HasColumnName("tokens_valid_after");
        builder.HasIndex(u => new { u.CreatedAt, u.Id }).IsDescending(true, true).HasDatabaseName("ix_users_created_at_id");
    }
}

/// <summary>Problems shared by the user slices.</summary>
internal static class UserProblems
{
    /// <summary>404 for an account that does not exist or that the caller may not see; the same either way.</summary>
    public static Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult NotFound(Guid id) =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "User not found.", detail: $"No user {id} is visible to you.");
}

/// <summary>Reports an account's current state to the access-token check in Infrastructure/Security.</summary>
internal sealed class UserAccountStatusSource(SliceApi.Infrastructure.Data.AppDbContext db) : SliceApi.Infrastructure.Security.IAccountStatusSource
{
    public Task<SliceApi.Infrastructure.Security.AccountStatus?> FindAsync(Guid userId, CancellationToken ct) =>
        db.Set<User>().Where(u => u.Id == userId)
          .Select(u => new SliceApi.Infrastructure.Security.AccountStatus(u.IsActive, u.Role))
          .FirstOrDefaultAsync(ct);
}

/// <summary>A user as the API shows it; never carries the password hash.</summary>
/// <param name="Id">The user id.</param>
/// <param name="Email">Lower-case email address.</param>
/// <param name="DisplayName">Name shown to other people, 1 to 100 characters.</param>
/// <param name="Role"><c>admin</c>, <c>user</c> or <c>guest</c>.</param>
/// <param name="CreatedAt">When the account was created (UTC).</param>
/// <param name="IsActive">False once an admin deactivated the account.</param>
public sealed record UserResponse(Guid Id, string Email, string DisplayName, string Role, DateTimeOffset CreatedAt, bool IsActive)
{
    internal static UserResponse From(User user) => new(user.Id, user.Email, user.DisplayName, user.Role, user.CreatedAt, user.IsActive);
}
