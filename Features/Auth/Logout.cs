using FluentValidation;
using Microsoft.AspNetCore.Http.HttpResults;
using Marten;
using SliceApi.Infrastructure.Data;
using SliceApi.Infrastructure.Endpoints;
using SliceApi.Infrastructure.OpenApi;
using SliceApi.Infrastructure.Validation;

namespace SliceApi.Features.Auth;

/// <summary>The refresh token of the session to end.</summary>
/// <param name="RefreshToken">The refreshToken of the last token pair.</param>
public sealed record LogoutRequest(string RefreshToken);

/// <summary>Shape rules of <see cref="LogoutRequest"/>.</summary>
internal sealed class LogoutValidator : AbstractValidator<LogoutRequest>
{
    public LogoutValidator() => RuleFor(x => x.RefreshToken).NotEmpty().MaximumLength(100);
}

/// <summary>
/// <c>POST /api/v1/auth/logout</c>: revokes the refresh token's family, so no token from that login can be
/// refreshed again. Always 204, whether or not the token was known. Access tokens already issued stay valid
/// until they expire (at most <c>Jwt:AccessTokenLifetimeMinutes</c>).
/// </summary>
internal sealed class LogoutEndpoint : IEndpoint
{
    public void Map(IEndpointRouteBuilder api) =>
        api.MapPost("/auth/logout", HandleAsync)
           .WithName("Logout")
           .WithTags("Auth")
           .WithSummary("End a session: revoke its refresh tokens")
           .AllowAnonymous()
           .WithRequestExample(new LogoutRequest("hQ3y9cXvN1qg0mV4uY0n2x5bJkq7Wg8fT6rL1sD3eA0"))
           .WithRequestValidation<LogoutRequest>();

    private static async Task<NoContent> HandleAsync(LogoutRequest request, IDocumentSession session, TimeProvider clock, CancellationToken ct)
    {
        var hash = RefreshToken.Hash(request.RefreshToken);
        var token = await session.Query<RefreshToken>().FirstOrDefaultAsync(t => t.TokenHash == hash, ct);
        if (token is not null)
        {
            await TokenPairs.RevokeFamilyAsync(session, token.FamilyId, clock.GetStoredUtcNow(), ct);
        }

        return TypedResults.NoContent();
    }
}
