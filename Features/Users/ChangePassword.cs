using FastEndpoints;
using FluentValidation;
using Marten;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Identity;
using SliceApi.Infrastructure.Data;
using SliceApi.Infrastructure.Security;

namespace SliceApi.Features.Users;

/// <summary>Body of <c>POST /api/v1/users/me/password</c>: a new password, proven by the current one.</summary>
public sealed class ChangePasswordRequest
{
    /// <summary>The password in use now.</summary>
    public string CurrentPassword { get; set; } = "";

    /// <summary>12 to 128 characters, not the email, not the current password (OWASP ASVS 4.0 V2.1).</summary>
    public string NewPassword { get; set; } = "";
}

/// <summary>Shape rules of <see cref="ChangePasswordRequest"/>; whether the current password is right is the handler's check.</summary>
internal sealed class ChangePasswordValidator : Validator<ChangePasswordRequest>
{
    public ChangePasswordValidator()
    {
        RuleFor(x => x.CurrentPassword).MaximumLength(128).NotEmpty();
        RuleFor(x => x.NewPassword).Cascade(CascadeMode.Stop)
            .NotEmpty()
            .Length(12, 128)
            .Must((request, password) => password != request.CurrentPassword).WithMessage("'newPassword' must differ from the current password.");
    }
}

/// <summary>
/// <c>POST /api/v1/users/me/password</c>: changes the caller's password and ends every session: refresh tokens and
/// access tokens issued before now are refused, at once on this instance and within a second on others (a
/// revocation message); the caller logs in again with the new password.
/// </summary>
internal sealed class ChangePassword(IDocumentSession session, AccountStatusCheck statusCheck, Revocations revocations, TimeProvider clock)
    : Endpoint<ChangePasswordRequest, Results<NoContent, ValidationProblem, ProblemHttpResult>>
{
    public override void Configure()
    {
        Post("users/me/password");
        Group<UsersGroup>();
        Description(b => b.ProducesProblem(StatusCodes.Status404NotFound));
        Summary(s =>
        {
            s.Summary = "Change the caller's password; signs out every session";
            s.ExampleRequest = new ChangePasswordRequest { CurrentPassword = "correct horse battery staple", NewPassword = "a longer and newer passphrase" };
        });
    }

    public override async Task<Results<NoContent, ValidationProblem, ProblemHttpResult>> ExecuteAsync(ChangePasswordRequest req, CancellationToken ct)
    {
        var user = await session.LoadForUpdateAsync<User>(User.GetUserId(), ct);
        if (user is null)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "The account no longer exists.");
        }

        if (Users.User.PasswordHasher.VerifyHashedPassword(user, user.PasswordHash, req.CurrentPassword) == PasswordVerificationResult.Failed)
        {
            return TypedResults.ValidationProblem(
                new Dictionary<string, string[]> { ["currentPassword"] = ["'currentPassword' is not the current password."] },
                title: "The request is invalid.");
        }

        if (string.Equals(req.NewPassword.Trim(), user.Email, StringComparison.OrdinalIgnoreCase))
        {
            return TypedResults.ValidationProblem(
                new Dictionary<string, string[]> { ["newPassword"] = ["'newPassword' must not be the email address."] },
                title: "The request is invalid.");
        }

        user.PasswordHash = Users.User.PasswordHasher.HashPassword(user, req.NewPassword);
        user.TokensValidAfter = clock.GetStoredUtcNow();
        session.Update(user);
        revocations.Queue(session, Revocations.Account, user.Id.ToString());
        await session.SaveChangesAsync(ct);
        statusCheck.Forget(user.Id);
        return TypedResults.NoContent();
    }
}
