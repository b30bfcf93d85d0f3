using FastEndpoints;
using FluentValidation;
using Marten;
using Microsoft.AspNetCore.Http.HttpResults;
using SliceApi.Infrastructure.Data;
using SliceApi.Infrastructure.Security;

namespace SliceApi.Features.FeatureName;

/// <summary>The request of <c>VERB /api/v1/slice-route</c>.</summary>
public sealed class UseCaseNameRequest
{
    /// <summary>What the use case acts on: 1 to 200 characters, trimmed.</summary>
#if (!hasBody)
    [QueryParam]
#endif
    public string Name { get; set; } = "";
}

/// <summary>The response of <c>VERB /api/v1/slice-route</c>.</summary>
/// <param name="Name">The name, trimmed.</param>
/// <param name="At">When it was handled (UTC, microseconds).</param>
public sealed record UseCaseNameResponse(string Name, DateTimeOffset At);

/// <summary>Shape rules of <see cref="UseCaseNameRequest"/> only: validators are process-wide singletons, so they take no constructor dependencies.</summary>
internal sealed class UseCaseNameValidator : Validator<UseCaseNameRequest>
{
    public UseCaseNameValidator() => RuleFor(x => x.Name).MaximumLength(200).NotEmpty();
}

/// <summary><c>VERB /api/v1/slice-route</c>: say what it does, for whom, and the rules it follows (with their sources).</summary>
internal sealed class UseCaseName(IDocumentSession session, TimeProvider clock)
    : Endpoint<UseCaseNameRequest, Results<Ok<UseCaseNameResponse>, ProblemHttpResult>>
{
    public override void Configure()
    {
        VerbMethod("slice-route");
        Group<FeatureNameGroup>();
        Roles(AppRoles.Admin, AppRoles.User);
        Summary(s =>
        {
            s.Summary = "UseCaseName";
            s.ExampleRequest = new UseCaseNameRequest { Name = "example" };
        });
    }

    public override async Task<Results<Ok<UseCaseNameResponse>, ProblemHttpResult>> ExecuteAsync(UseCaseNameRequest req, CancellationToken ct)
    {
        // Load documents through the session (LoadAsync, Query), change or store them, and save once. An expected failure
        // is a problem: return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, detail: "...").
        await session.SaveChangesAsync(ct);
        return TypedResults.Ok(new UseCaseNameResponse(req.Name.Trim(), clock.GetStoredUtcNow()));
    }
}
