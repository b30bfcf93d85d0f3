using System.Security.Claims;
using FluentValidation;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Identity;
using Marten;
using SliceApi.Infrastructure.Data;
using SliceApi.Infrastructure.Endpoints;
using SliceApi.Infrastructure.OpenApi;
using SliceApi.Infrastructure.Security;
using SliceApi.Infrastructure.Validation;

namespace SliceApi.Features.Users;

/// <summary>A new password, proven by the current one.</summary>
/// <param name="CurrentPassword">The password in use now.</param>
/// <param name="NewPassword">12 to 128 characters, not the email, not the current password (OWASP ASVS 4.0 V2.1).</param>
public sealed record ChangePasswordRequest(string CurrentPassword, string NewPassword);

/// <summary>Shape rules of <see cref="ChangePasswordRequest"/>; whether the current password is right is the handler's check.</summary>
internal sealed class ChangePasswordValidator : AbstractValidator<ChangePasswordRequest>
{
    public ChangePasswordValidator()
    {
        RuleFor(x => x.CurrentPassword).NotEmpty().MaximumLength(128);
        RuleFor(x => x.NewPassword).Cascade(CascadeMode.Stop)
            .NotEmpty()
            .Length(12, 128)
            .Must((request, password) => password != request.CurrentPassword).WithMessage("'newPassword' must differ from the current password.");
    }
}

/// <summary>
/// <c>POST /api/v1/users/me/password</c>: changes the caller's password and ends every session: refresh tokens
/// issued before now are refused (access tokens live out their few minutes).
/// </summary>
internal sealed class ChangePasswordEndpoint : IEndpoint
{
    public void Map(IEndpointRouteBuilder api) =>
        api.MapPost("/users/me/password", HandleAsync)
           .WithName("ChangePassword")
           .WithTags("Users")
           .WithSummary("Change the caller's password; signs out every session")
           .WithRequestExample(new ChangePasswordRequest("correct horse battery staple", "a longer and newer passphrase"))
           .WithRequestValidation<ChangePasswordRequest>()
           .ProducesProblem(StatusCodes.Status404NotFound);

    private static async Task<Results<NoContent, ValidationProblem, ProblemHttpResult>> HandleAsync(
        ChangePasswordRequest request, ClaimsPrincipal caller, IDocumentSession session, TimeProvider clock, CancellationToken ct)
    {
        var id = caller.GetUserId();
        var user = await session.LoadAsync<User>(id, ct);
        if (user is null)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "The account no longer exists.");
        }

        if (User.PasswordHasher.VerifyHashedPassword(user, user.PasswordHash, request.CurrentPassword) == PasswordVerificationResult.Failed)
        {
            return TypedResults.ValidationProblem(
                new Dictionary<string, string[]> { ["currentPassword"] = ["'currentPassword' is not the current password."] },
                title: "The request is invalid.");
        }

        if (string.Equals(request.NewPassword.Trim(), user.Email, StringComparison.OrdinalIgnoreCase))
        {
            return TypedResults.ValidationProblem(
                new Dictionary<string, string[]> { ["newPassword"] = ["'newPassword' must not be the email address."] },
                title: "The request is invalid.");
        }

        user.PasswordHash = User.PasswordHasher.HashPassword(user, request.NewPassword);
        user.TokensValidAfter = clock.GetStoredUtcNow();
        session.Update(user);
        await session.SaveChangesAsync(ct);
        return TypedResults.NoContent();
    }
}
