using System.Net.Mail;
using FastEndpoints;
using FluentValidation;
using Marten;
using Microsoft.AspNetCore.Http.HttpResults;
using SliceApi.Infrastructure.Data;
using SliceApi.Infrastructure.Endpoints;
using SliceApi.Infrastructure.Http;
using SliceApi.Infrastructure.Security;
using SliceApi.Infrastructure.Validation;

namespace SliceApi.Features.Users;

/// <summary>Body of <c>POST /api/v1/users</c>: a new account.</summary>
public sealed class RegisterUserRequest
{
    /// <summary>An email address, at most 254 characters (RFC 5321 section 4.5.3.1.3); stored trimmed and lower-case.</summary>
    public string Email { get; set; } = "";

    /// <summary>12 to 128 characters, not equal to the email (OWASP ASVS 4.0 V2.1.1, V2.1.2). Any characters, no composition rules (V2.1.9).</summary>
    public string Password { get; set; } = "";

    /// <summary>1 to 100 characters after trimming.</summary>
    public string DisplayName { get; set; } = "";
}

/// <summary>Shape rules of <see cref="RegisterUserRequest"/>; uniqueness of the email is checked by the handler.</summary>
internal sealed class RegisterUserValidator : Validator<RegisterUserRequest>
{
    public RegisterUserValidator()
    {
        RuleFor(x => x.Email).Cascade(CascadeMode.Stop)
            .NotEmpty()
            .TrimmedLength(1, 254)
            .HasFormat("email", BeAnEmailAddress).WithMessage("'email' must be an email address such as ada@example.com.");
        RuleFor(x => x.Password).Cascade(CascadeMode.Stop)
            .NotEmpty()
            .Length(12, 128)
            .Must((request, password) => request.Email is null || !string.Equals(password.Trim(), request.Email.Trim(), StringComparison.OrdinalIgnoreCase))
            .WithMessage("'password' must not be the email address.");
        RuleFor(x => x.DisplayName).Cascade(CascadeMode.Stop)
            .NotEmpty()
            .TrimmedLength(1, 100);
    }

    private static bool BeAnEmailAddress(string email)
    {
        var trimmed = email.Trim();
        return MailAddress.TryCreate(trimmed, out var address)
            && address.Address == trimmed
            && address.User.Length <= 64
            && address.Host.Contains('.', StringComparison.Ordinal)
            && !address.Host.EndsWith('.');
    }
}

/// <summary><c>POST /api/v1/users</c>: anyone may register; the new account gets the role <c>user</c>.</summary>
internal sealed class RegisterUser(IDocumentSession session, TimeProvider clock) : Endpoint<RegisterUserRequest, Results<Created<UserResponse>, ProblemHttpResult>>
{
    public override void Configure()
    {
        Post("users");
        Group<UsersGroup>();
        AllowAnonymous();
        Options(b => b.RequireRateLimiting(RateLimitSetup.CredentialsPolicy));
        Description(b => b.ProducesProblem(StatusCodes.Status409Conflict));
        Summary(s =>
        {
            s.Summary = "Register a new account";
            s.Description = "Creates an account with the role 'user'. Log in with POST /api/v1/auth/login to get an access token.";
            s.ExampleRequest = new RegisterUserRequest { Email = "ada@example.com", Password = "correct horse battery staple", DisplayName = "Ada Lovelace" };
        });
    }

    public override async Task<Results<Created<UserResponse>, ProblemHttpResult>> ExecuteAsync(RegisterUserRequest req, CancellationToken ct)
    {
        var email = Users.User.NormalizeEmail(req.Email);
        if (await session.Query<User>().AnyAsync(u => u.Email == email, ct))
        {
            return TypedResults.Problem(
                statusCode: StatusCodes.Status409Conflict,
                title: "The email is already registered.",
                detail: "An account with this email already exists. Log in instead, or register with another email.");
        }

        var user = new User
        {
            Id = Guid.CreateVersion7(),
            Email = email,
            DisplayName = req.DisplayName.Trim(),
            Role = AppRoles.User,
            CreatedAt = clock.GetStoredUtcNow(),
        };
        user.PasswordHash = Users.User.PasswordHasher.HashPassword(user, req.Password);
        session.Insert(user);
        await session.SaveChangesAsync(ct); // a concurrent registration of the same email hits ux_user_email: 409

        return TypedResults.Created($"{ApiEndpoints.V1Prefix}/users/{user.Id}", UserResponse.From(user));
    }
}
