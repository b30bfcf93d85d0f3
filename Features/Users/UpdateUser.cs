using System.Security.Claims;
using FluentValidation;
using Microsoft.AspNetCore.Http.HttpResults;
using Marten;
using SliceApi.Infrastructure.Data;
using SliceApi.Infrastructure.Endpoints;
using SliceApi.Infrastructure.OpenApi;
using SliceApi.Infrastructure.Security;
using SliceApi.Infrastructure.Validation;

namespace SliceApi.Features.Users;

/// <summary>Changes to an account; absent (or null) members stay as they are.</summary>
/// <param name="DisplayName">1 to 100 characters after trimming. The account itself or an admin.</param>
/// <param name="Role"><c>admin</c>, <c>user</c> or <c>guest</c>. Admins only.</param>
/// <param name="IsActive">False deactivates: no login, no refresh, and tokens already issued stop working within 30 seconds. Admins only.</param>
public sealed record UpdateUserRequest(string? DisplayName = null, string? Role = null, bool? IsActive = null);

/// <summary>Shape rules of <see cref="UpdateUserRequest"/>.</summary>
internal sealed class UpdateUserValidator : AbstractValidator<UpdateUserRequest>
{
    public UpdateUserValidator()
    {
        RuleFor(x => x.DisplayName!)
            .TrimmedLength(1, 100)
            .When(x => x.DisplayName is not null);
        RuleFor(x => x.Role!)
            .Must(Roles.All.Contains).WithMessage("'role' must be one of: admin, user, guest.")
            .When(x => x.Role is not null);
    }
}

/// <summary>
/// <c>PATCH /api/v1/users/{id}</c>: an admin changes any account's displayName, role or isActive; anyone else
/// only their own displayName (role or isActive is then 403; someone else's id is 404).
/// </summary>
internal sealed class UpdateUserEndpoint : IEndpoint
{
    public void Map(IEndpointRouteBuilder api) =>
        api.MapPatch("/users/{id}", HandleAsync)
           .WithName("UpdateUser")
           .WithTags("Users")
           .WithSummary("Change an account (admins: role and isActive too)")
           .WithRequestExample(new { displayName = "Ada King", role = "user", isActive = true })
           .WithRequestValidation<UpdateUserRequest>()
           .ProducesProblem(StatusCodes.Status403Forbidden)
           .ProducesProblem(StatusCodes.Status404NotFound);

    private static async Task<Results<Ok<UserResponse>, ProblemHttpResult>> HandleAsync(
        Guid id, UpdateUserRequest request, ClaimsPrincipal caller, IDocumentSession session, AccountStatusCheck statusCheck, CancellationToken ct)
    {
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

        var user = await session.LoadAsync<User>(id, ct);
        if (user is null)
        {
            return UserProblems.NotFound(id);
        }

        user.DisplayName = request.DisplayName?.Trim() ?? user.DisplayName;
        user.Role = request.Role ?? user.Role;
        user.IsActive = request.IsActive ?? user.IsActive;
        session.Update(user);
        await session.SaveChangesAsync(ct);
        statusCheck.Forget(id);
        return TypedResults.Ok(UserResponse.From(user));
    }
}
