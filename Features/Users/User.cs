using Marten;
using Microsoft.AspNetCore.Identity;

namespace SliceApi.Features.Users;

/// <summary>A registered account, a Marten document (table <c>mt_doc_user</c>).</summary>
internal sealed class User
{
    /// <summary>
    /// Hashes and verifies passwords: PBKDF2 with HMAC-SHA512, <see cref="PasswordIterations"/> iterations, 128-bit salt
    /// (ASP.NET Core Identity V3 format, which records the count in each hash). A hash made with fewer iterations (the
    /// framework's default of 100,000, used before 2026-12) verifies as <c>SuccessRehashNeeded</c>, and login stores a
    /// new hash.
    /// </summary>
    public static readonly PasswordHasher<User> PasswordHasher =
        new(Microsoft.Extensions.Options.Options.Create(new PasswordHasherOptions { IterationCount = PasswordIterations }));

    /// <summary>210,000: OWASP Password Storage Cheat Sheet's minimum for PBKDF2-HMAC-SHA512.</summary>
    public const int PasswordIterations = 210_000;

    /// <summary>The user id, a version-7 GUID: the <c>sub</c> claim of the user's access tokens.</summary>
    public Guid Id { get; init; }

    /// <summary>Trimmed and lower-cased; unique.</summary>
    public required string Email { get; init; }

    /// <summary>The name shown to other people, 1 to 100 characters, trimmed.</summary>
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

/// <summary>
/// The storage of <see cref="User"/>: the email unique (stored lower-case, so the unique index is case-insensitive),
/// and the creation time as a column with an index on (created_at, id), read backwards by the admin list's keyset pages.
/// Other areas' tables refer to <c>mt_doc_user(id)</c> with foreign keys that delete or clear with the user.
/// </summary>
internal sealed class UserMapping : IConfigureMarten
{
    public void Configure(IServiceProvider services, Marten.StoreOptions options) =>
        options.Schema.For<User>()
            .Duplicate(u => u.Email, configure: ix => { ix.IsUnique = true; ix.Name = "ux_user_email"; })
            .Duplicate(u => u.CreatedAt, configure: ix => { ix.Name = "ix_user_created_at_id"; ix.Columns = ["created_at", "id"]; });
}

/// <summary>Problems shared by the user slices.</summary>
internal static class UserProblems
{
    /// <summary>404 for an account that does not exist or that the caller may not see; the same either way.</summary>
    public static Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult NotFound(Guid id) =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "User not found.", detail: $"No user {id} is visible to you.");
}

/// <summary>Reports an account's current state to the access-token check in Infrastructure/Security.</summary>
internal sealed class UserAccountStatusSource(IQuerySession session) : IAccountStatusSource
{
    public async Task<AccountStatus?> FindAsync(Guid userId, CancellationToken ct) =>
        await session.LoadAsync<User>(userId, ct) is { } user ? new AccountStatus(user.IsActive, user.Role, user.TokensValidAfter) : null;
}

/// <summary>Registration of what the account area offers the rest of the API.</summary>
internal static class UsersSetup
{
    /// <summary>
    /// Registers <see cref="AccountStatusCheck"/> as a check every authenticated request passes (access token or API key)
    /// and as a revocation subscriber, reading accounts through <see cref="UserAccountStatusSource"/>.
    /// </summary>
    public static IServiceCollection AddUserAccounts(this IServiceCollection services)
    {
        services.AddScoped<IAccountStatusSource, UserAccountStatusSource>();
        services.AddSingleton<AccountStatusCheck>();
        services.AddSingleton<SliceApi.Infrastructure.Security.IPrincipalCheck>(provider => provider.GetRequiredService<AccountStatusCheck>());
        services.AddSingleton<SliceApi.Infrastructure.Security.IRevocationSubscriber>(provider => provider.GetRequiredService<AccountStatusCheck>());
        return services;
    }
}

/// <summary>A user as the API shows it; never carries the password hash.</summary>
/// <param name="Id">The user id.</param>
/// <param name="Email">Lower-case email address.</param>
/// <param name="DisplayName">Name shown to other people, 1 to 100 characters.</param>
/// <param name="Role"><c>admin</c>, <c>user</c> or <c>guest</c>.</param>
/// <param name="CreatedAt">When the account was created (UTC).</param>
/// <param name="IsActive">False once an admin deactivated the account.</param>
public sealed record UserResponse(
    Guid Id, [property: System.ComponentModel.DataAnnotations.MaxLength(254)] string Email, [property: System.ComponentModel.DataAnnotations.MaxLength(100)] string DisplayName,
    [property: System.ComponentModel.DataAnnotations.MaxLength(5)] string Role, DateTimeOffset CreatedAt, bool IsActive)
{
    internal static UserResponse From(User user) => new(user.Id, user.Email, user.DisplayName, user.Role, user.CreatedAt, user.IsActive);
}

/// <summary>
/// Work another feature does in the transaction that deletes an account, before the deletion is written (the tasks
/// area unassigns the account's assigned tasks and records the deletion of its own), so nothing the deletion touches is
/// left inconsistent.
/// </summary>
internal interface IAccountDeletionStep
{
    /// <summary>Runs in <paramref name="session"/>, whose transaction is open and locks the user; its save deletes the account.</summary>
    /// <param name="session">The deleting request's session.</param>
    /// <param name="userId">The account being deleted.</param>
    /// <param name="actor">Who deletes it (the account itself or an admin).</param>
    /// <param name="ct">Cancels the work.</param>
    Task BeforeDeleteAsync(IDocumentSession session, Guid userId, System.Security.Claims.ClaimsPrincipal actor, CancellationToken ct);
}
