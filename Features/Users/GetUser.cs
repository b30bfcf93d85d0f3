using FastEndpoints;
using Marten;
using Microsoft.AspNetCore.Http.HttpResults;
using SliceApi.Infrastructure.Security;

namespace SliceApi.Features.Users;

/// <summary>Route of <c>GET /api/v1/users/{id}</c>.</summary>
public sealed class GetUserRequest
{
    /// <summary>The account's id.</summary>
    public Guid Id { get; set; }
}

/// <summary>
/// <c>GET /api/v1/users/{id}</c>: an admin reads any account, anyone else only their own; another
/// user's id is a 404, so ids do not reveal which accounts exist.
/// </summary>
internal sealed class GetUser(IQuerySession session) : Endpoint<GetUserRequest, Results<Ok<UserResponse>, ProblemHttpResult>>
{
    public override void Configure()
    {
        Get("users/{id}");
        Group<UsersGroup>();
        Description(b => b.ProducesProblem(StatusCodes.Status404NotFound));
        Summary(s => s.Summary = "Get an account by id (admins: any; others: their own)");
    }

    public override async Task<Results<Ok<UserResponse>, ProblemHttpResult>> ExecuteAsync(GetUserRequest req, CancellationToken ct)
    {
        UserResponse? user = null;
        if (User.IsAdmin() || User.GetUserId() == req.Id)
        {
            user = await session.LoadAsync<User>(req.Id, ct) is { } found ? UserResponse.From(found) : null;
        }

        return user is null ? UserProblems.NotFound(req.Id) : TypedResults.Ok(user);
    }
}
