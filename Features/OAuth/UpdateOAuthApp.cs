using FastEndpoints;
using FluentValidation;
using Microsoft.AspNetCore.Http.HttpResults;
using OpenIddict.Abstractions;
using OpenIddict.Core;
using SliceApi.Infrastructure.Validation;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace SliceApi.Features.OAuth;

/// <summary>Route and body of <c>PUT /api/v1/oauth/apps/{id}</c>: the app's new name and redirect URIs (its type stays).</summary>
public sealed class UpdateOAuthAppRequest
{
    /// <summary>The app's id.</summary>
    public Guid Id { get; set; }

    /// <summary>1 to 100 characters, shown to users on the consent page.</summary>
    public string Name { get; set; } = "";

    /// <summary>1 to 10 redirect URIs, matched exactly, by the rules of registration (replaces the old list).</summary>
    [System.ComponentModel.DataAnnotations.MaxLength(OAuthAppRules.MaxRedirectUris)]
    public Uri[] RedirectUris { get; set; } = [];
}

/// <summary>Shape rules of <see cref="UpdateOAuthAppRequest"/>: those of registration.</summary>
internal sealed class UpdateOAuthAppValidator : Validator<UpdateOAuthAppRequest>
{
    public UpdateOAuthAppValidator()
    {
        RuleFor(x => x.Name).AppName();
        RuleFor(x => x.RedirectUris).RedirectUris();
    }
}

/// <summary>
/// <c>PUT /api/v1/oauth/apps/{id}</c>: renames one of the caller's apps (an admin: anyone's) and replaces its redirect
/// URIs, through OpenIddict's application manager; grants and tokens already issued stay. A change made meanwhile by
/// another request is a 409 (the store compares the app's concurrency token); another user's id, or a deleted app, is 404.
/// </summary>
internal sealed class UpdateOAuthApp(OpenIddictApplicationManager<OAuthApplication> apps) : Endpoint<UpdateOAuthAppRequest, Results<Ok<OAuthAppResponse>, ProblemHttpResult>>
{
    public override void Configure()
    {
        Put("oauth/apps/{id}");
        Group<OAuthGroup>();
        Description(b => b.ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict));
        Summary(s =>
        {
            s.Summary = "Change an OAuth app's name and redirect URIs";
            s.ExampleRequest = new { name = "Calendar sync", redirectUris = ExampleUris }; // the route's id is not part of the body
        });
    }

    private static readonly string[] ExampleUris = ["https://calendar.example.com/oauth/callback"];

    public override async Task<Results<Ok<OAuthAppResponse>, ProblemHttpResult>> ExecuteAsync(UpdateOAuthAppRequest req, CancellationToken ct)
    {
        if (await apps.FindByIdAsync(req.Id.ToString(), ct) is not { } app || !OAuthAppAccess.MaySee(User, app))
        {
            return OAuthAppAccess.NotFound(req.Id);
        }

        var uris = req.RedirectUris.Distinct().ToList();
        app.DisplayName = req.Name.Trim();
        app.RedirectUris = [.. uris.Select(u => u.AbsoluteUri)];
        app.ApplicationType = OAuthAppRules.ApplicationTypeOf(uris);
        try
        {
            await apps.UpdateAsync(app, ct);
        }
        catch (OpenIddictExceptions.ConcurrencyException)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "The app changed meanwhile.",
                detail: "Another request changed or deleted this app while yours was being applied; read it again and repeat the change.");
        }

        return TypedResults.Ok(OAuthAppResponse.From(app));
    }
}
