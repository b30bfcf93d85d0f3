using FastEndpoints;
using FluentValidation;
using Marten;
using Microsoft.AspNetCore.Http.HttpResults;
using SliceApi.Infrastructure.Data;
using SliceApi.Infrastructure.Security;
using SliceApi.Infrastructure.Validation;

namespace SliceApi.Features.Users;

/// <summary>Body of <c>PATCH /api/v1/users/{id}</c>: changes to an account; absent (or null) members stay as they are.</summary>
public sealed class UpdateUserRequest
{
    /// <summary>The account's id (from the route).</summary>
    [RouteParam]
    public Guid Id { get; set; }

    /// <summary>1 to 100 characters after trimming. The account itself or an admin.</summary>
    public string? DisplayName { get; set; }

    /// <summary><c>admin</c>, <c>user</c> or <c>guest</c>. Admins only.</summary>
    public string? Role { get; set; }

    /// <summary>False deactivates: no login, no refresh, and tokens already issued stop working within 30 seconds. Admins only.</summary>
    public bool? IsActive { get; set; }
}

/// <summary>Shape rules of <see cref="UpdateUserRequest"/>.</summary>
internal sealed class UpdateUserValidator : Validator<UpdateUserRequest>
{
    public UpdateUserValidator()
    {
        RuleFor(x => x.DisplayName!)
            .TrimmedLength(1, 100)
            .When(x => x.DisplayName is not null);
        RuleFor(x => x.Role).OneOf(AppRoles.All).WithMessage("'role' must be one of: admin, user, guest.");
    }
}

/// <summary>
/// <c>PATCH /api/v1/users/{id}</c>: an admin changes any account's displayName, role or isActive; anyone else
/// only their own displayName (role or isActive is then 403; someone else's id is 404).
/// </summary>
internal sealed class UpdateUser(IDocumentSession session, AccountStatusCheck statusCheck, Revocations revocations) : Endpoint<UpdateUserRequest, Results<Ok<UserResponse>, ProblemHttpResult>>
{
    public override void Configure()
    {
        Patch("users/{id}");
        Group<UsersGroup>();
        Description(b => b.ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status404NotFound));
        Summary(s =>
        {
            s.Summary = "Change an account (admins: role and isActive too)";
            s.ExampleRequest = new { displayName = "Ada King", role = "user", isActive = true }; // the route's id is not part of the body
        });
    }

    public override async Task<Results<Ok<UserResponse>, ProblemHttpResult>> ExecuteAsync(UpdateUserRequest req, CancellationToken ct)
    {
        var (id, request, caller) = (req.Id, req, User);
        var isAdmin = caller.IsAdmin();
        if (!isAdmin && caller.GetUserId() != id)
        {
            return UserProblems.NotFound(id);
        }

        if (!isAdmin && (request.Role is not null || request.IsActive is not null))
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Only an admin can change role or isActive.",
                detail: "Send only displayName to change your own account.");
        }

        var user = await session.LoadForUpdateAsync<User>(id, ct);
        if (user is null)
        {
            return UserProblems.NotFound(id);
        }

        user.DisplayName = request.DisplayName?.Trim() ?? user.DisplayName;
        user.Role = request.Role ?? user.Role;
        user.IsActive = request.IsActive ?? user.IsActive;
        session.Update(user);
        revocations.Queue(session, Revocations.Account, id.ToString());
        await session.SaveChangesAsync(ct);
        statusCheck.Forget(id);
        return TypedResults.Ok(UserResponse.From(user));
    }
}
