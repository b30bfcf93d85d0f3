using FastEndpoints;
using Marten;
using Microsoft.AspNetCore.Http.HttpResults;
using SliceApi.Infrastructure.Data;
using SliceApi.Infrastructure.Security;

namespace SliceApi.Features.Users;

/// <summary>Route of <c>DELETE /api/v1/users/{id}</c>.</summary>
public sealed class DeleteUserRequest
{
    /// <summary>The account's id.</summary>
    public Guid Id { get; set; }
}

/// <summary>
/// <c>DELETE /api/v1/users/{id}</c>: an admin deletes any account, anyone else only their own. The account's
/// tasks, refresh tokens and API keys are deleted with it (foreign keys with ON DELETE CASCADE); its
/// access tokens stop working at once on this instance and within a second on others (a revocation message). Someone else's id is 404.
/// </summary>
internal sealed class DeleteUser(IDocumentSession session, AccountStatusCheck statusCheck, Revocations revocations, IEnumerable<IAccountDeletionStep> steps) : Endpoint<DeleteUserRequest, Results<NoContent, ProblemHttpResult>>
{
    public override void Configure()
    {
        Delete("users/{id}");
        Group<UsersGroup>();
        Description(b => b.ProducesProblem(StatusCodes.Status404NotFound));
        Summary(s => s.Summary = "Delete an account and its tasks (admins: any; others: their own)");
    }

    public override async Task<Results<NoContent, ProblemHttpResult>> ExecuteAsync(DeleteUserRequest req, CancellationToken ct)
    {
        if (!(User.IsAdmin() || User.GetUserId() == req.Id) || await session.LoadForUpdateAsync<User>(req.Id, ct) is null)
        {
            return UserProblems.NotFound(req.Id);
        }

        // The user's tasks, tokens, keys and idempotency records go with it through their foreign keys (ON DELETE
        // CASCADE); the steps of other features (tasks assigned to it become unassigned) run in the same transaction.
        foreach (var step in steps)
        {
            await step.BeforeDeleteAsync(session, req.Id, User, ct);
        }

        session.Delete<User>(req.Id);
        revocations.Queue(session, Revocations.Account, req.Id.ToString());
        await session.SaveChangesAsync(ct);

        statusCheck.Forget(req.Id);
        return TypedResults.NoContent();
    }
}
