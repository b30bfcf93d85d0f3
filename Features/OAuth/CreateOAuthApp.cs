using System.Buffers.Text;
using System.Security.Claims;
using System.Security.Cryptography;
using FastEndpoints;
using FluentValidation;
using Marten;
using Microsoft.AspNetCore.Http.HttpResults;
using OpenIddict.Core;
using SliceApi.Infrastructure.Data;
using SliceApi.Infrastructure.Endpoints;
using SliceApi.Infrastructure.Security;
using SliceApi.Infrastructure.Validation;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace SliceApi.Features.OAuth;

/// <summary>Body of <c>POST /api/v1/oauth/apps</c>: a new app.</summary>
public sealed class CreateOAuthAppRequest
{
    /// <summary>1 to 100 characters, shown to users on the consent page.</summary>
    public string Name { get; set; } = "";

    /// <summary><c>public</c> (browser and native apps, which cannot keep a secret) or <c>confidential</c> (a server, which gets a client secret).</summary>
    public string ClientType { get; set; } = "";

    /// <summary>
    /// 1 to 10 redirect URIs, matched exactly: absolute <c>https</c> URLs, or for native apps <c>http://127.0.0.1</c> or
    /// <c>http://[::1]</c> with any port (RFC 8252 section 7.3); no fragment, no user name or password.
    /// </summary>
    [System.ComponentModel.DataAnnotations.MaxLength(OAuthAppRules.MaxRedirectUris)]
    public Uri[] RedirectUris { get; set; } = [];
}

/// <summary>The new app: a confidential app's client secret appears here once and is never shown again.</summary>
/// <param name="ClientSecret">Send with <c>client_id</c> to the token endpoint (HTTP Basic, RFC 6749 section 2.3.1); null for a public app.</param>
/// <param name="App">The app, as GET /api/v1/oauth/apps lists it.</param>
public sealed record CreateOAuthAppResponse([property: System.ComponentModel.DataAnnotations.MaxLength(46)] string? ClientSecret, OAuthAppResponse App);

/// <summary>The rules of an app's registration.</summary>
internal static class OAuthAppRules
{
    /// <summary>The most redirect URIs an app registers.</summary>
    public const int MaxRedirectUris = 10;

    /// <summary>The longest redirect URI, in characters.</summary>
    public const int MaxUriLength = 2048;

    /// <summary>
    /// Whether <paramref name="uri"/> may be a redirect URI: absolute, <c>https</c>, or <c>http</c> on the loopback
    /// address <c>127.0.0.1</c> or <c>[::1]</c> (RFC 8252 section 7.3; not <c>localhost</c>, section 8.3), without a
    /// fragment (RFC 6749 section 3.1.2) or user information, at most <see cref="MaxUriLength"/> characters.
    /// </summary>
    public static bool IsAllowedRedirectUri(Uri? uri) =>
        uri is { IsAbsoluteUri: true } && uri.OriginalString.Length <= MaxUriLength && uri.Fragment.Length == 0 && !uri.OriginalString.Contains('#')
        && uri.UserInfo.Length == 0
        && (uri.Scheme == Uri.UriSchemeHttps || (uri.Scheme == Uri.UriSchemeHttp && uri.Host is "127.0.0.1" or "[::1]"));

    /// <summary>OpenIddict's application type for these redirect URIs: <c>native</c> when all are loopback (RFC 8252), else <c>web</c>.</summary>
    public static string ApplicationTypeOf(IEnumerable<Uri> redirectUris) =>
        redirectUris.All(u => u.IsLoopback) ? ApplicationTypes.Native : ApplicationTypes.Web;

    /// <summary>The rules of an app's name (1 to 100 characters after trimming), for registration and change alike.</summary>
    public static void AppName<T>(this IRuleBuilderInitial<T, string> rule) => rule.Cascade(CascadeMode.Stop).NotEmpty().TrimmedLength(1, 100);

    /// <summary>The rules of an app's redirect URIs (1 to <see cref="MaxRedirectUris"/>, each <see cref="IsAllowedRedirectUri"/>), for registration and change alike.</summary>
    public static void RedirectUris<T>(this IRuleBuilderInitial<T, Uri[]> rule) =>
        rule.Cascade(CascadeMode.Stop).NotEmpty()
            .Must(u => u.Length <= MaxRedirectUris).WithMessage($"'redirectUris' holds at most {MaxRedirectUris} URIs.")
            .Must(u => u.All(IsAllowedRedirectUri))
            .WithMessage("Each of 'redirectUris' must be an absolute https URL, or http://127.0.0.1 or http://[::1] with any port, without a fragment or user name, at most 2048 characters.");
}

/// <summary>Shape rules of <see cref="CreateOAuthAppRequest"/>.</summary>
internal sealed class CreateOAuthAppValidator : Validator<CreateOAuthAppRequest>
{
    public CreateOAuthAppValidator()
    {
        RuleFor(x => x.Name).AppName();
        RuleFor(x => x.ClientType).Cascade(CascadeMode.Stop).NotEmpty().OneOf([ClientTypes.Public, ClientTypes.Confidential]);
        RuleFor(x => x.RedirectUris).RedirectUris();
    }
}

/// <summary>
/// <c>POST /api/v1/oauth/apps</c>: registers an app owned by the caller, through OpenIddict's application manager
/// (which hashes the client secret). A caller who already owns <see cref="OAuthApplication.MaxPerUser"/> apps gets a
/// 409 problem; creates of one caller take turns (an advisory lock), so a burst cannot pass the limit.
/// </summary>
internal sealed class CreateOAuthApp(IDocumentSession session, OpenIddictApplicationManager<OAuthApplication> apps, TimeProvider clock)
    : Endpoint<CreateOAuthAppRequest, Results<Created<CreateOAuthAppResponse>, ProblemHttpResult>>
{
    public override void Configure()
    {
        Post("oauth/apps");
        Group<OAuthGroup>();
        Description(b => b.ProducesProblem(StatusCodes.Status409Conflict));
        Summary(s =>
        {
            s.Summary = "Register an OAuth app (a confidential app's secret is shown once)";
            s.ExampleRequest = new CreateOAuthAppRequest { Name = "Calendar sync", ClientType = "confidential", RedirectUris = [new Uri("https://calendar.example.com/oauth/callback")] };
        });
    }

    public override async Task<Results<Created<CreateOAuthAppResponse>, ProblemHttpResult>> ExecuteAsync(CreateOAuthAppRequest req, CancellationToken ct)
    {
        var ownerId = User.GetUserId();
        await session.TakeTurnAsync(7332, ownerId.ToString(), ct);
        var owned = await session.Query<OAuthApplication>().CountAsync(a => a.OwnerId == ownerId, ct);
        if (owned >= OAuthApplication.MaxPerUser)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Too many apps.",
                detail: $"You own {owned} apps, the most allowed; delete one (DELETE /api/v1/oauth/apps/{{id}}) first.");
        }

        var confidential = req.ClientType == ClientTypes.Confidential;
        var secret = confidential ? "cs_" + Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32)) : null;
        var app = new OAuthApplication { Id = Guid.CreateVersion7(), OwnerId = ownerId, CreatedAt = clock.GetStoredUtcNow() };
        await apps.PopulateAsync(app, OAuthSetup.Describe(req.Name.Trim(), req.ClientType, req.RedirectUris.Distinct()), ct);
        await apps.CreateAsync(app, secret, ct); // commits in the store's own session while this one still holds the turn
        await session.SaveChangesAsync(ct); // ends the turn
        HttpContext.Response.Headers.CacheControl = "no-store";
        return TypedResults.Created($"{ApiEndpoints.V1Prefix}/oauth/apps/{app.Id}", new CreateOAuthAppResponse(secret, OAuthAppResponse.From(app)));
    }
}
