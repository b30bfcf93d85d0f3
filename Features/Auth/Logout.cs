using FastEndpoints;
using FluentValidation;
using Microsoft.AspNetCore.Http.HttpResults;
using Marten;
using SliceApi.Infrastructure.Data;
using SliceApi.Infrastructure.Validation;

namespace SliceApi.Features.Auth;

/// <summary>Body of <c>POST /api/v1/auth/logout</c>: the refresh token of the session to end.</summary>
public sealed class LogoutRequest
{
    /// <summary>The refreshToken of the last token pair.</summary>
    public string RefreshToken { get; set; } = "";
}

/// <summary>Shape rules of <see cref="LogoutRequest"/>: a refresh token of at most 100 characters.</summary>
internal sealed class LogoutValidator : Validator<LogoutRequest>
{
    public LogoutValidator() => RuleFor(x => x.RefreshToken).NotEmpty().MaximumLength(100);
}

/// <summary>
/// <c>POST /api/v1/auth/logout</c>: revokes the refresh token's family, so no token from that login can be
/// refreshed again. Always 204, whether or not the token was known. Access tokens already issued stay valid
/// until they expire (at most <c>Jwt:AccessTokenLifetimeMinutes</c>).
/// </summary>
internal sealed class Logout(IDocumentSession session, TimeProvider clock) : Endpoint<LogoutRequest, NoContent>
{
    public override void Configure()
    {
        Post("auth/logout");
        Group<AuthGroup>();
        AllowAnonymous();
        Summary(s =>
        {
            s.Summary = "End a session: revoke its refresh tokens";
            s.ExampleRequest = new LogoutRequest { RefreshToken = "hQ3y9cXvN1qg0mV4uY0n2x5bJkq7Wg8fT6rL1sD3eA0" };
        });
    }

    public override async Task<NoContent> ExecuteAsync(LogoutRequest req, CancellationToken ct)
    {
        var hash = RefreshToken.Hash(req.RefreshToken);
        var token = await session.Query<RefreshToken>().FirstOrDefaultAsync(t => t.TokenHash == hash, ct);
        if (token is not null)
        {
            await TokenPairs.RevokeFamilyAsync(session, token.FamilyId, clock.GetStoredUtcNow(), ct);
        }

        return TypedResults.NoContent();
    }
}
