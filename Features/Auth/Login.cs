using System.Diagnostics.Metrics;
using FastEndpoints;
using FluentValidation;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Identity;
using Marten;
using Microsoft.Extensions.Options;
using SliceApi.Features.Users;
using SliceApi.Infrastructure.Data;
using SliceApi.Infrastructure.Http;
using SliceApi.Infrastructure.Security;
using SliceApi.Infrastructure.Validation;

namespace SliceApi.Features.Auth;

/// <summary>Body of <c>POST /api/v1/auth/login</c>: credentials to exchange for an access token.</summary>
public sealed class LoginRequest
{
    /// <summary>The account's email (compared trimmed, case-insensitively).</summary>
    public string Email { get; set; } = "";

    /// <summary>The account's password.</summary>
    public string Password { get; set; } = "";
}

/// <summary>Shape rules of <see cref="LoginRequest"/>: limits only (254-character email, 128-character password), so a bad login is a 401, not a hint.</summary>
internal sealed class LoginValidator : Validator<LoginRequest>
{
    public LoginValidator()
    {
        RuleFor(x => x.Email).NotEmpty().MaximumLength(254);
        RuleFor(x => x.Password).NotEmpty().MaximumLength(128); // longer ones cannot match, and would only cost hashing time
    }
}

/// <summary>
/// <c>POST /api/v1/auth/login</c>: checks the password and returns a token pair (access and refresh token). An unknown email and a
/// wrong password give the same 401 in about the same time, so accounts cannot be enumerated
/// (OWASP Authentication Cheat Sheet, "Authentication and Error Messages"). After 5 failures for an email
/// within 15 minutes, logins for it get a 429 for 15 minutes (<see cref="Lockout"/>).
/// </summary>
internal sealed class Login(IDocumentSession session, IOptions<JwtOptions> options, TimeProvider clock, IMeterFactory meters)
    : Endpoint<LoginRequest, Results<Ok<TokenResponse>, ProblemHttpResult>>
{
    public override void Configure()
    {
        Post("auth/login");
        Group<AuthGroup>();
        AllowAnonymous();
        Options(b => b.RequireRateLimiting(RateLimitSetup.CredentialsPolicy));
        Description(b => b.ProducesProblem(StatusCodes.Status401Unauthorized).ProducesProblem(StatusCodes.Status429TooManyRequests));
        Summary(s =>
        {
            s.Summary = "Log in and get an access token and a refresh token";
            s.ExampleRequest = new LoginRequest { Email = "ada@example.com", Password = "correct horse battery staple" };
        });
    }

    public override async Task<Results<Ok<TokenResponse>, ProblemHttpResult>> ExecuteAsync(LoginRequest req, CancellationToken ct)
    {
        var http = HttpContext;
        var email = Users.User.NormalizeEmail(req.Email);
        var now = clock.GetStoredUtcNow();
        var logins = AuthMetrics.Logins(meters);
        var check = await PasswordCheck.RunAsync(session, email, req.Password, now, ct);
        if (check.LockedUntil is { } lockedUntil)
        {
            return LockedOut(lockedUntil, now);
        }

        if (check.User is not { } user)
        {
            logins.Add(1, new KeyValuePair<string, object?>(AuthMetrics.Result, "failed"));
            http.Response.Headers.WWWAuthenticate = "Bearer";
            return TypedResults.Problem(
                statusCode: StatusCodes.Status401Unauthorized,
                title: "Invalid email or password.",
                detail: "The email and password do not match an account.");
        }

        if (check.Verification == PasswordVerificationResult.SuccessRehashNeeded
            && await session.LoadForUpdateAsync<User>(user.Id, ct) is { } locked && locked.PasswordHash == user.PasswordHash)
        {
            // Re-read under the lock, so a concurrent change of role, status or password is kept; saved with the new
            // refresh token below.
            locked.PasswordHash = Users.User.PasswordHasher.HashPassword(locked, req.Password);
            session.Update(locked);
        }

        var pair = await TokenPairs.IssueAsync(session, options, clock, user, familyId: null, ct);
        TokenPairs.MarkNoStore(http.Response);
        logins.Add(1, new KeyValuePair<string, object?>(AuthMetrics.Result, "succeeded"));
        return TypedResults.Ok(pair);
    }

    private ProblemHttpResult LockedOut(DateTimeOffset until, DateTimeOffset now)
    {
        AuthMetrics.Logins(meters).Add(1, new KeyValuePair<string, object?>(AuthMetrics.Result, "locked_out"));
        var seconds = (int)Math.Ceiling((until - now).TotalSeconds);
        HttpContext.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return TypedResults.Problem(
            statusCode: StatusCodes.Status429TooManyRequests,
            title: "Too many failed logins.",
            detail: $"Logins for this email are paused after {Lockout.MaxFailures} failures. Try again in {(seconds + 59) / 60} minute(s).");
    }
}

/// <summary>The outcome of <see cref="PasswordCheck.RunAsync"/>.</summary>
/// <param name="User">The account when the password matched and the account is active, else null.</param>
/// <param name="Verification">How the password compared (<c>SuccessRehashNeeded</c>: store a new hash).</param>
/// <param name="LockedUntil">When the email's lock ends (UTC) if logins for it are paused, else null.</param>
internal sealed record PasswordCheckResult(User? User, PasswordVerificationResult Verification, DateTimeOffset? LockedUntil);

/// <summary>
/// The password check of every sign-in (the API's log-in and the OAuth sign-in page): a locked email costs no hashing;
/// otherwise the password is checked first (the costly part, in parallel with other logins), then logins for the email
/// take turns to read the failures again and record this one, so a burst of guesses sent at once reveals the result of
/// exactly <see cref="Lockout.MaxFailures"/> of them (OWASP Authentication Cheat Sheet, "Account Lockout"). An unknown
/// email is checked against a decoy hash, so it takes as long as a wrong password.
/// </summary>
internal static class PasswordCheck
{
    private static readonly User Decoy = CreateDecoy();

    /// <summary>Checks <paramref name="password"/> for <paramref name="email"/> (normalized), recording a failure or clearing them.</summary>
    public static async Task<PasswordCheckResult> RunAsync(IDocumentSession session, string email, string password, DateTimeOffset now, CancellationToken ct)
    {
        if (await Lockout.LockedUntilAsync(session, email, now, ct) is { } lockedUntil)
        {
            return new(null, PasswordVerificationResult.Failed, lockedUntil);
        }

        var user = await session.Query<User>().FirstOrDefaultAsync(u => u.Email == email, ct);
        var verification = Users.User.PasswordHasher.VerifyHashedPassword(user ?? Decoy, (user ?? Decoy).PasswordHash, password);
        await Lockout.TakeTurnAsync(session, email, ct);
        if (await Lockout.LockedUntilAsync(session, email, now, ct) is { } lockedMeanwhile)
        {
            return new(null, PasswordVerificationResult.Failed, lockedMeanwhile);
        }

        if (user is null || !user.IsActive || verification == PasswordVerificationResult.Failed)
        {
            await Lockout.RecordFailureAsync(session, email, now, ct);
            return new(null, PasswordVerificationResult.Failed, null);
        }

        await Lockout.ResetAsync(session, email, ct);
        return new(user, verification, null);
    }

    private static User CreateDecoy()
    {
        var decoy = new User { Email = "decoy@invalid", DisplayName = "decoy", Role = AppRoles.Guest };
        decoy.PasswordHash = Users.User.PasswordHasher.HashPassword(decoy, Guid.NewGuid().ToString());
        return decoy;
    }
}
