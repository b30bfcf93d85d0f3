using System.Diagnostics.Metrics;
using FastEndpoints;
using FluentValidation;
using Microsoft.AspNetCore.Http.HttpResults;
using Marten;
using Microsoft.Extensions.Options;
using SliceApi.Features.Users;
using SliceApi.Infrastructure.Data;
using SliceApi.Infrastructure.Http;
using SliceApi.Infrastructure.Security;
using SliceApi.Infrastructure.Validation;

namespace SliceApi.Features.Auth;

/// <summary>Body of <c>POST /api/v1/auth/refresh</c>: a refresh token to exchange.</summary>
public sealed class RefreshTokensRequest
{
    /// <summary>The refreshToken of the last token pair.</summary>
    public string RefreshToken { get; set; } = "";
}

/// <summary>Shape rules of <see cref="RefreshTokensRequest"/>: a refresh token of at most 100 characters.</summary>
internal sealed class RefreshTokensValidator : Validator<RefreshTokensRequest>
{
    public RefreshTokensValidator() => RuleFor(x => x.RefreshToken).NotEmpty().MaximumLength(100);
}

/// <summary>
/// <c>POST /api/v1/auth/refresh</c>: exchanges a refresh token for a new pair and retires the old one (rotation).
/// Presenting a token that was already exchanged revokes its whole family, so a stolen token stops working
/// for the thief and the owner alike (RFC 9700 section 4.14.2); the owner logs in again.
/// </summary>
internal sealed class RefreshTokens(IDocumentSession session, IOptions<JwtOptions> options, TimeProvider clock, IMeterFactory meters)
    : Endpoint<RefreshTokensRequest, Results<Ok<TokenResponse>, ProblemHttpResult>>
{
    public override void Configure()
    {
        Post("auth/refresh");
        Group<AuthGroup>();
        AllowAnonymous();
        Options(b => b.RequireRateLimiting(RateLimitSetup.CredentialsPolicy));
        Description(b => b.ProducesProblem(StatusCodes.Status401Unauthorized));
        Summary(s =>
        {
            s.Summary = "Exchange a refresh token for a new token pair";
            s.ExampleRequest = new RefreshTokensRequest { RefreshToken = "hQ3y9cXvN1qg0mV4uY0n2x5bJkq7Wg8fT6rL1sD3eA0" };
        });
    }

    public override async Task<Results<Ok<TokenResponse>, ProblemHttpResult>> ExecuteAsync(RefreshTokensRequest req, CancellationToken ct)
    {
        var http = HttpContext;
        var hash = RefreshToken.Hash(req.RefreshToken);
        // Locked: of many requests with one token, the first marks it used and the rest then read it used (reuse).
        var ids = await session.Query<RefreshToken>().Where(t => t.TokenHash == hash).Select(t => t.Id).ToListAsync(ct);
        var presented = ids.Count == 0 ? null : await session.LoadForUpdateAsync<RefreshToken>(ids[0], ct);
        var now = clock.GetStoredUtcNow();
        if (presented is null || presented.RevokedAt is not null || presented.ExpiresAt <= now)
        {
            return Refused(http, "The refresh token is unknown, expired or revoked. Log in again.");
        }

        if (presented.UsedAt is not null)
        {
            return await ReusedAsync(presented, now, http, ct);
        }

        var user = await session.LoadAsync<User>(presented.UserId, ct);
        if (user is null || !user.IsActive || presented.CreatedAt < user.TokensValidAfter)
        {
            await TokenPairs.RevokeFamilyAsync(session, presented.FamilyId, now, ct);
            return Refused(http, "The account was deactivated or its password changed since this login. Log in again.");
        }

        // The presented token is marked used in the same save that stores its successor.
        presented.UsedAt = now;
        session.Update(presented);
        var pair = await TokenPairs.IssueAsync(session, options, clock, user, presented.FamilyId, ct);
        TokenPairs.MarkNoStore(http.Response);
        return TypedResults.Ok(pair);
    }

    private async Task<ProblemHttpResult> ReusedAsync(RefreshToken presented, DateTimeOffset now, HttpContext http, CancellationToken ct)
    {
        await TokenPairs.RevokeFamilyAsync(session, presented.FamilyId, now, ct);
        AuthMetrics.RefreshTokenReuse(meters).Add(1);
        return Refused(http, "The refresh token was already used, so every token from that login is now revoked. Log in again.");
    }

    private static ProblemHttpResult Refused(HttpContext http, string detail)
    {
        http.Response.Headers.WWWAuthenticate = "Bearer";
        TokenPairs.MarkNoStore(http.Response);
        return TypedResults.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "The refresh token was refused.", detail: detail);
    }
}
