using FluentValidation;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Identity;
using Marten;
using Microsoft.Extensions.Options;
using SliceApi.Features.Users;
using SliceApi.Infrastructure.Data;
using SliceApi.Infrastructure.Endpoints;
using SliceApi.Infrastructure.OpenApi;
using SliceApi.Infrastructure.Http;
using SliceApi.Infrastructure.Security;
using SliceApi.Infrastructure.Validation;

namespace SliceApi.Features.Auth;

/// <summary>Credentials to exchange for an access token.</summary>
/// <param name="Email">The account's email (compared trimmed, case-insensitively).</param>
/// <param name="Password">The account's password.</param>
public sealed record LoginRequest(string Email, string Password);

/// <summary>Shape rules of <see cref="LoginRequest"/>.</summary>
internal sealed class LoginValidator : AbstractValidator<LoginRequest>
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
internal sealed class LoginEndpoint : IEndpoint
{
    // Verified when the email is unknown, so that answer takes as long as a wrong password.
    private static readonly User Decoy = CreateDecoy();

    public void Map(IEndpointRouteBuilder api) =>
        api.MapPost("/auth/login", HandleAsync)
           .WithName("Login")
           .WithTags("Auth")
           .WithSummary("Log in and get an access token and a refresh token")
           .AllowAnonymous()
           .RequireRateLimiting(RateLimitSetup.CredentialsPolicy)
           .WithRequestExample(new LoginRequest("ada@example.com", "correct horse battery staple"))
           .WithRequestValidation<LoginRequest>()
           .ProducesProblem(StatusCodes.Status401Unauthorized)
           .ProducesProblem(StatusCodes.Status429TooManyRequests);

    private static async Task<Results<Ok<TokenResponse>, ProblemHttpResult>> HandleAsync(
        LoginRequest request, IDocumentSession session, AccessTokenIssuer tokens, IOptions<JwtOptions> options, TimeProvider clock,
        HttpContext http, CancellationToken ct)
    {
        var email = User.NormalizeEmail(request.Email);
        var now = clock.GetStoredUtcNow();
        if (await Lockout.LockedUntilAsync(session, email, now, ct) is { } lockedUntil)
        {
            var seconds = (int)Math.Ceiling((lockedUntil - now).TotalSeconds);
            http.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return TypedResults.Problem(
                statusCode: StatusCodes.Status429TooManyRequests,
                title: "Too many failed logins.",
                detail: $"Logins for this email are paused after {Lockout.MaxFailures} failures. Try again in {(seconds + 59) / 60} minute(s).");
        }

        var user = await session.Query<User>().FirstOrDefaultAsync(u => u.Email == email, ct);
        var verification = User.PasswordHasher.VerifyHashedPassword(user ?? Decoy, (user ?? Decoy).PasswordHash, request.Password);
        if (user is null || !user.IsActive || verification == PasswordVerificationResult.Failed)
        {
            await Lockout.RecordFailureAsync(session, email, now, ct);
            http.Response.Headers.WWWAuthenticate = "Bearer";
            return TypedResults.Problem(
                statusCode: StatusCodes.Status401Unauthorized,
                title: "Invalid email or password.",
                detail: "The email and password do not match an account.");
        }

        await Lockout.ResetAsync(session, email, ct);

        if (verification == PasswordVerificationResult.SuccessRehashNeeded)
        {
            user.PasswordHash = User.PasswordHasher.HashPassword(user, request.Password);
            session.Update(user); // saved with the new refresh token below
        }

        var pair = await TokenPairs.IssueAsync(session, tokens, options, clock, user, familyId: null, ct);
        TokenPairs.MarkNoStore(http.Response);
        return TypedResults.Ok(pair);
    }

    private static User CreateDecoy()
    {
        var decoy = new User { Email = "decoy@invalid", DisplayName = "decoy", Role = Roles.Guest };
        decoy.PasswordHash = User.PasswordHasher.HashPassword(decoy, Guid.NewGuid().ToString());
        return decoy;
    }
}
