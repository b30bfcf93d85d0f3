using System.Globalization;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Marten;
using Microsoft.AspNetCore;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.IdentityModel.Tokens;
using OpenIddict.Abstractions;
using OpenIddict.Server.AspNetCore;
using SliceApi.Features.Auth;
using SliceApi.Features.Users;
using SliceApi.Infrastructure.Data;
using SliceApi.Infrastructure.Http;
using SliceApi.Infrastructure.Security;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace SliceApi.Features.OAuth;

/// <summary>
/// The authorization endpoint's page (<c>GET</c> and <c>POST /oauth/authorize</c>), server-rendered HTML with no
/// external assets. OpenIddict has checked the request before it gets here (the app, its exact redirect URI, PKCE, the
/// scopes its registration allows). A visitor without a session signs in with email and password (the API's log-in
/// rules and lockout, <see cref="PasswordCheck"/>), then sees the consent screen: the app's name and each scope in
/// words, Allow or Deny. Allow records a grant and sends the app its code; Deny sends <c>access_denied</c>. A request
/// that cannot be trusted to go back to the app (an unknown client or redirect URI) gets an error page, never a redirect.
/// Every form carries an antiforgery token; each page has its own Content-Security-Policy (<c>default-src 'none'</c>,
/// a nonce for its one style block, <c>form-action</c> limited to this page and the app's redirect URI,
/// <c>frame-ancestors 'none'</c>).
/// </summary>
internal static class OAuthPages
{
    /// <summary>The cookie scheme of the sign-in session these pages keep (path <c>/oauth</c>, 30 minutes).</summary>
    public const string SessionScheme = "OAuthSession";

    /// <summary>The form field of the antiforgery token.</summary>
    public const string AntiforgeryField = "__RequestVerificationToken";

    // The page's own form fields; every other field is a parameter of the app's authorization request, carried along.
    private static readonly HashSet<string> OwnFields = ["action", "email", "password", AntiforgeryField];

    /// <summary>Maps the page; its form posts take the log-in rate limit (<see cref="RateLimitSetup.CredentialsPolicy"/>).</summary>
    public static WebApplication MapOAuthPages(this WebApplication app)
    {
        app.MapGet(OAuthServer.AuthorizePath, AuthorizeAsync).ExcludeFromDescription();
        app.MapPost(OAuthServer.AuthorizePath, AuthorizeAsync).ExcludeFromDescription().RequireRateLimiting(RateLimitSetup.CredentialsPolicy);
        return app;
    }

    private static async Task<IResult> AuthorizeAsync(
        HttpContext http, IOpenIddictApplicationManager apps, IOpenIddictAuthorizationManager grants, IAntiforgery antiforgery,
        IDocumentSession db, TimeProvider clock, CancellationToken ct)
    {
        if (http.GetOpenIddictServerResponse() is { Error: { } error } refused)
        {
            return Page(http, StatusCodes.Status400BadRequest, "This link cannot be used",
                P($"The app sent you here with a request SliceApi refuses: {refused.ErrorDescription ?? error}. Nothing was shared with it. Go back to the app and tell its makers."));
        }

        if (http.GetOpenIddictServerRequest() is not { ClientId: { } clientId } request
            || await apps.FindByClientIdAsync(clientId, ct) is not OAuthApplication app)
        {
            return Page(http, StatusCodes.Status400BadRequest, "This link cannot be used", P("Open this page from the app that wants to connect to your account."));
        }

        var form = http.Request.HasFormContentType ? await http.Request.ReadFormAsync(ct) : null;
        var user = await SignedInUserAsync(http, db, ct);
        if (form is not null && !await antiforgery.IsRequestValidAsync(http))
        {
            return Page(http, StatusCodes.Status400BadRequest, "This form has expired",
                P("The page was open too long or did not come from SliceApi. Go back to the app and start again."));
        }

        var action = form?["action"].ToString();
        string? notice = null;
        var status = StatusCodes.Status200OK;
        if (action == "signin")
        {
            var now = clock.GetStoredUtcNow();
            var check = await PasswordCheck.RunAsync(db, User.NormalizeEmail(form!["email"].ToString()), form["password"].ToString(), now, ct);
            if (check.LockedUntil is { } until)
            {
                status = StatusCodes.Status429TooManyRequests;
                http.Response.Headers.RetryAfter = ((int)Math.Ceiling((until - now).TotalSeconds)).ToString(CultureInfo.InvariantCulture);
                notice = $"Sign-ins for this email are paused after {Lockout.MaxFailures} failures. Try again in {(int)Math.Ceiling((until - now).TotalMinutes)} minute(s).";
            }
            else if (check.User is null)
            {
                notice = "The email and password do not match an account.";
            }
            else
            {
                user = check.User;
                var session = new ClaimsPrincipal(new ClaimsIdentity(
                    [new Claim(AccessTokenClaims.Subject, user.Id.ToString()), new Claim(Claims.IssuedAt, now.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture))],
                    SessionScheme, AccessTokenClaims.Subject, AccessTokenClaims.Role));
                await http.SignInAsync(SessionScheme, session);
                http.User = session; // the consent form's antiforgery token is bound to the signed-in user
            }
        }

        if (user is null)
        {
            return SignInPage(http, antiforgery, request, app, notice, status);
        }

        if (request.HasPromptValue(PromptValues.None))
        {
            return Refuse(Errors.ConsentRequired, "SliceApi asks the user before every grant; send the user to this page without prompt=none.");
        }

        if (action == "deny")
        {
            return Refuse(Errors.AccessDenied, "The user denied the app access.");
        }

        if (action == "allow")
        {
            var scopes = request.GetScopes();
            var identity = new ClaimsIdentity(TokenValidationParameters.DefaultAuthenticationType, Claims.Name, Claims.Role);
            identity.SetClaim(Claims.Subject, user.Id.ToString());
            identity.SetScopes(scopes);
            // The user's grant to this app that covers these scopes and still counts, else a new one.
            object? grant = null;
            await foreach (var existing in grants.FindAsync(user.Id.ToString(), app.Id.ToString(), Statuses.Valid, AuthorizationTypes.Permanent, scopes, ct))
            {
                if (user.TokensValidAfter is not { } validAfter || await grants.GetCreationDateAsync(existing, ct) >= validAfter)
                {
                    grant = existing;
                    break;
                }
            }

            grant ??= await grants.CreateAsync(new ClaimsPrincipal(identity), user.Id.ToString(), app.Id.ToString(), AuthorizationTypes.Permanent, scopes, ct);
            identity.SetAuthorizationId(await grants.GetIdAsync(grant, ct));
            identity.SetDestinations(_ => [Destinations.AccessToken]);
            return Results.SignIn(new ClaimsPrincipal(identity), authenticationScheme: OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
        }

        return ConsentPage(http, antiforgery, request, app, user);
    }

    // The user of the page's session cookie, if the account is still active and its password unchanged since signing in.
    private static async Task<User?> SignedInUserAsync(HttpContext http, IDocumentSession db, CancellationToken ct)
    {
        var session = await http.AuthenticateAsync(SessionScheme);
        if (session.Principal is not { } principal || !Guid.TryParse(principal.FindFirstValue(AccessTokenClaims.Subject), out var userId)
            || await db.LoadAsync<User>(userId, ct) is not { IsActive: true } user
            || (user.TokensValidAfter is { } validAfter && long.TryParse(principal.FindFirstValue(Claims.IssuedAt), out var issuedAt)
                && issuedAt < validAfter.ToUnixTimeSeconds()))
        {
            return null;
        }

        http.User = principal;
        return user;
    }

    private static IResult Refuse(string error, string description) =>
        Results.Forbid(new AuthenticationProperties(new Dictionary<string, string?>
        {
            [OpenIddictServerAspNetCoreConstants.Properties.Error] = error,
            [OpenIddictServerAspNetCoreConstants.Properties.ErrorDescription] = description,
        }), [OpenIddictServerAspNetCoreDefaults.AuthenticationScheme]);

    private static IResult SignInPage(HttpContext http, IAntiforgery antiforgery, OpenIddictRequest request, OAuthApplication app, string? notice, int status) =>
        Page(http, status, "Sign in to SliceApi",
            P($"<strong>{E(app.DisplayName)}</strong> wants to connect to your SliceApi account. Sign in first; you choose what it may do next.")
            + (notice is null ? "" : $"<p class=\"notice\" role=\"alert\">{E(notice)}</p>")
            + Form(http, antiforgery, request,
                "<label>Email <input type=\"email\" name=\"email\" autocomplete=\"username\" required></label>"
                + "<label>Password <input type=\"password\" name=\"password\" autocomplete=\"current-password\" required></label>"
                + "<button name=\"action\" value=\"signin\">Sign in</button>"),
            request.RedirectUri);

    private static IResult ConsentPage(HttpContext http, IAntiforgery antiforgery, OpenIddictRequest request, OAuthApplication app, User user)
    {
        var scopes = request.GetScopes();
        var items = scopes.IsEmpty
            ? "<li>Nothing beyond knowing that you use SliceApi</li>"
            : string.Concat(scopes.Select(s => $"<li>{E(ApiScopes.Descriptions.GetValueOrDefault(s, s))} <code>{E(s)}</code></li>"));
        return Page(http, StatusCodes.Status200OK, $"Allow {app.DisplayName}?",
            P($"You are signed in as <strong>{E(user.Email)}</strong>. <strong>{E(app.DisplayName)}</strong> asks to:")
            + $"<ul>{items}</ul>"
            + P("It will act with your role, never more, and never sees your password. You can take this back later.")
            + Form(http, antiforgery, request,
                "<button name=\"action\" value=\"allow\">Allow</button> <button name=\"action\" value=\"deny\" class=\"secondary\">Deny</button>"),
            request.RedirectUri);
    }

    // A form posting back to this page with the app's request parameters and an antiforgery token.
    private static string Form(HttpContext http, IAntiforgery antiforgery, OpenIddictRequest request, string fields)
    {
        var tokens = antiforgery.GetAndStoreTokens(http);
        var carried = new StringBuilder();
        foreach (var (name, value) in request.GetParameters())
        {
            if (!OwnFields.Contains(name) && (string?)value is { } text)
            {
                carried.Append(CultureInfo.InvariantCulture, $"<input type=\"hidden\" name=\"{E(name)}\" value=\"{E(text)}\">");
            }
        }

        return $"<form method=\"post\" action=\"{E(http.Request.PathBase + OAuthServer.AuthorizePath)}\">{carried}"
            + $"<input type=\"hidden\" name=\"{E(tokens.FormFieldName)}\" value=\"{E(tokens.RequestToken)}\">{fields}</form>";
    }

    private static IResult Page(HttpContext http, int status, string title, string body, string? redirectUri = null)
    {
        var nonce = Convert.ToBase64String(RandomNumberGenerator.GetBytes(16));
        var formAction = "'self'" + (Uri.TryCreate(redirectUri, UriKind.Absolute, out var target) ? " " + target.GetLeftPart(UriPartial.Authority) : "");
        var headers = http.Response.Headers;
        headers.ContentSecurityPolicy = $"default-src 'none'; style-src 'nonce-{nonce}'; form-action {formAction}; frame-ancestors 'none'; base-uri 'none'";
        headers.XFrameOptions = "DENY";
        headers.CacheControl = "no-store";
        headers["Referrer-Policy"] = "no-referrer";
        var html = $"""
            <!doctype html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>{E(title)} · SliceApi</title>
            <style nonce="{nonce}">
            body {"{"} font: 16px/1.5 system-ui, sans-serif; max-width: 30rem; margin: 3rem auto; padding: 0 1rem; color: #1b1b1b; {"}"}
            label {"{"} display: block; margin: .75rem 0; {"}"}
            input {"{"} display: block; width: 100%; box-sizing: border-box; padding: .5rem; font: inherit; {"}"}
            button {"{"} padding: .5rem 1.25rem; font: inherit; cursor: pointer; {"}"}
            .secondary {"{"} background: none; {"}"}
            .notice {"{"} color: #a00; {"}"}
            </style>
            </head>
            <body>
            <main>
            <h1>{E(title)}</h1>
            {body}
            </main>
            </body>
            </html>
            """;
        return Results.Content(html, "text/html; charset=utf-8", Encoding.UTF8, status);
    }

    private static string P(string html) => $"<p>{html}</p>";

    private static string E(string? text) => HtmlEncoder.Default.Encode(text ?? "");
}
