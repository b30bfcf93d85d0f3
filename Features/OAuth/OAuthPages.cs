using System.Collections.Immutable;
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

    // Where a failed sign-in leaves its notice for the sign-in page.
    private const string NoticeKey = "sliceapi.oauth.notice";

    /// <summary>The device authorization grant's verification page (RFC 8628 section 3.3).</summary>
    public const string VerifyPath = "/oauth/device/verify";

    // The page's own form fields; every other field is a parameter of the app's authorization request, carried along.
    private static readonly HashSet<string> OwnFields = ["action", "email", "password", AntiforgeryField];

    /// <summary>Maps the page; its form posts take the log-in rate limit (<see cref="RateLimitSetup.CredentialsPolicy"/>).</summary>
    public static WebApplication MapOAuthPages(this WebApplication app)
    {
        app.MapGet(OAuthServer.AuthorizePath, AuthorizeAsync).ExcludeFromDescription();
        app.MapPost(OAuthServer.AuthorizePath, AuthorizeAsync).ExcludeFromDescription().RequireRateLimiting(RateLimitSetup.CredentialsPolicy);
        app.MapGet(VerifyPath, VerifyAsync).ExcludeFromDescription();
        app.MapPost(VerifyPath, VerifyAsync).ExcludeFromDescription().RequireRateLimiting(RateLimitSetup.CredentialsPolicy);
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

        var (form, user, early) = await SignInStepAsync(http, antiforgery, db, clock, ct);
        if (early is not null)
        {
            return early;
        }

        if (user is null)
        {
            return SignInPage(http, antiforgery, request, $"<strong>{E(app.DisplayName)}</strong> wants to connect to your SliceApi account. Sign in first; you choose what it may do next.");
        }

        if (request.HasPromptValue(PromptValues.None))
        {
            return Refuse(Errors.ConsentRequired, "SliceApi asks the user before every grant; send the user to this page without prompt=none.");
        }

        var action = form?["action"].ToString();
        if (action == "deny")
        {
            return Refuse(Errors.AccessDenied, "The user denied the app access.");
        }

        if (action == "allow")
        {
            return Results.SignIn(await GrantAsync(grants, user, app, request.GetScopes(), ct), authenticationScheme: OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
        }

        return ConsentPage(http, antiforgery, request, app, user, request.GetScopes(), null);
    }

    // GET and POST /oauth/device/verify: the device authorization grant's page (RFC 8628 section 3.3). OpenIddict has
    // checked the user_code, if one came, before this runs.
    private static async Task<IResult> VerifyAsync(
        HttpContext http, IOpenIddictApplicationManager apps, IOpenIddictAuthorizationManager grants, IAntiforgery antiforgery,
        IDocumentSession db, TimeProvider clock, CancellationToken ct)
    {
        if (http.Request.Query["outcome"] is [var outcome] && http.Request.Method == HttpMethods.Get)
        {
            return outcome == "allowed"
                ? Page(http, StatusCodes.Status200OK, "Done", P("Your device is connected. You can close this page and go back to it."))
                : Page(http, StatusCodes.Status200OK, "Not connected", P("You denied the device access. Nothing was shared with it."));
        }

        var request = http.GetOpenIddictServerRequest() ?? new OpenIddictRequest();
        var (form, user, early) = await SignInStepAsync(http, antiforgery, db, clock, ct);
        if (early is not null)
        {
            return early;
        }

        if (user is null)
        {
            return SignInPage(http, antiforgery, request, "A device or program asks to connect to your SliceApi account. Sign in first; then enter the code it shows.");
        }

        // An unknown or expired user code authenticates without a client: the code is refused then.
        var code = string.IsNullOrEmpty(request.UserCode) ? null : (await http.AuthenticateAsync(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme)).Principal;
        var app = code?.GetClaim(Claims.ClientId) is { Length: > 0 } clientId ? await apps.FindByClientIdAsync(clientId, ct) as OAuthApplication : null;
        var refused = !string.IsNullOrEmpty(request.UserCode) && app is null;
        if (code is null || app is null)
        {
            return Page(http, refused ? StatusCodes.Status400BadRequest : StatusCodes.Status200OK, "Enter the code",
                (refused ? "<p class=\"notice\" role=\"alert\">That code is not valid or has expired. Check it, or start again on the device.</p>" : "")
                + P("Enter the code your device or program shows.")
                + Form(http, antiforgery, new OpenIddictRequest(), VerifyPath,
                    "<label>Code <input name=\"user_code\" autocomplete=\"one-time-code\" autocapitalize=\"characters\" required></label>"
                    + "<button name=\"action\" value=\"code\">Continue</button>"));
        }

        var action = form?["action"].ToString();
        if (action == "deny")
        {
            return Results.Forbid(new AuthenticationProperties(new Dictionary<string, string?>
            {
                [OpenIddictServerAspNetCoreConstants.Properties.Error] = Errors.AccessDenied,
                [OpenIddictServerAspNetCoreConstants.Properties.ErrorDescription] = "The user denied the device access.",
            }) { RedirectUri = VerifyPath + "?outcome=denied" }, [OpenIddictServerAspNetCoreDefaults.AuthenticationScheme]);
        }

        if (action == "allow")
        {
            return Results.SignIn(await GrantAsync(grants, user, app, code.GetScopes(), ct),
                new AuthenticationProperties { RedirectUri = VerifyPath + "?outcome=allowed" }, OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
        }

        return ConsentPage(http, antiforgery, request, app, user, code.GetScopes(), request.UserCode);
    }

    // The form's antiforgery check and the sign-in form's post, shared by both pages: the form, the signed-in user (null:
    // show the sign-in page, with a notice and status set on the response when a sign-in failed), or a page to answer with.
    private static async Task<(IFormCollection? Form, User? User, IResult? Early)> SignInStepAsync(
        HttpContext http, IAntiforgery antiforgery, IDocumentSession db, TimeProvider clock, CancellationToken ct)
    {
        var form = http.Request.HasFormContentType ? await http.Request.ReadFormAsync(ct) : null;
        var user = await SignedInUserAsync(http, db, ct);
        if (form is not null && !await antiforgery.IsRequestValidAsync(http))
        {
            return (form, user, Page(http, StatusCodes.Status400BadRequest, "This form has expired",
                P("The page was open too long or did not come from SliceApi. Go back to the app and start again.")));
        }

        if (form?["action"].ToString() != "signin")
        {
            return (form, user, null);
        }

        var now = clock.GetStoredUtcNow();
        var check = await PasswordCheck.RunAsync(db, User.NormalizeEmail(form["email"].ToString()), form["password"].ToString(), now, ct);
        if (check.LockedUntil is { } until)
        {
            http.Response.StatusCode = StatusCodes.Status429TooManyRequests;
            http.Response.Headers.RetryAfter = ((int)Math.Ceiling((until - now).TotalSeconds)).ToString(CultureInfo.InvariantCulture);
            http.Items[NoticeKey] = $"Sign-ins for this email are paused after {Lockout.MaxFailures} failures. Try again in {(int)Math.Ceiling((until - now).TotalMinutes)} minute(s).";
            return (form, null, null);
        }

        if (check.User is null)
        {
            http.Items[NoticeKey] = "The email and password do not match an account.";
            return (form, null, null);
        }

        var session = new ClaimsPrincipal(new ClaimsIdentity(
            [new Claim(AccessTokenClaims.Subject, check.User.Id.ToString()), new Claim(Claims.IssuedAt, now.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture))],
            SessionScheme, AccessTokenClaims.Subject, AccessTokenClaims.Role));
        await http.SignInAsync(SessionScheme, session);
        http.User = session; // the next form's antiforgery token is bound to the signed-in user
        return (null, check.User, null); // the sign-in form's fields are not a consent
    }

    // The user's grant to the app that covers the scopes and still counts (else a new one), and the principal OpenIddict
    // issues the app's tokens from: the user's id, the scopes, the grant.
    private static async Task<ClaimsPrincipal> GrantAsync(IOpenIddictAuthorizationManager grants, User user, OAuthApplication app, ImmutableArray<string> scopes, CancellationToken ct)
    {
        var identity = new ClaimsIdentity(TokenValidationParameters.DefaultAuthenticationType, Claims.Name, Claims.Role);
        identity.SetClaim(Claims.Subject, user.Id.ToString());
        identity.SetScopes(scopes);
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
        return new ClaimsPrincipal(identity);
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

    private static IResult SignInPage(HttpContext http, IAntiforgery antiforgery, OpenIddictRequest request, string intro)
    {
        var notice = http.Items[NoticeKey] as string;
        return Page(http, http.Response.StatusCode, "Sign in to SliceApi",
            P(intro)
            + (notice is null ? "" : $"<p class=\"notice\" role=\"alert\">{E(notice)}</p>")
            + Form(http, antiforgery, request, http.Request.Path,
                "<label>Email <input type=\"email\" name=\"email\" autocomplete=\"username\" required></label>"
                + "<label>Password <input type=\"password\" name=\"password\" autocomplete=\"current-password\" required></label>"
                + "<button name=\"action\" value=\"signin\">Sign in</button>"),
            request.RedirectUri);
    }

    private static IResult ConsentPage(
        HttpContext http, IAntiforgery antiforgery, OpenIddictRequest request, OAuthApplication app, User user, ImmutableArray<string> scopes, string? userCode)
    {
        var items = scopes.IsEmpty
            ? "<li>Nothing beyond knowing that you use SliceApi</li>"
            : string.Concat(scopes.Select(s => $"<li>{E(ApiScopes.Descriptions.GetValueOrDefault(s, s))} <code>{E(s)}</code></li>"));
        return Page(http, StatusCodes.Status200OK, $"Allow {app.DisplayName}?",
            P($"You are signed in as <strong>{E(user.Email)}</strong>. <strong>{E(app.DisplayName)}</strong> asks to:")
            + $"<ul>{items}</ul>"
            + (userCode is null ? "" : P($"Allow only if your device shows the code <strong><code>{E(userCode)}</code></strong>."))
            + P("It will act with your role, never more, and never sees your password. You can take this back later.")
            + Form(http, antiforgery, request, http.Request.Path,
                "<button name=\"action\" value=\"allow\">Allow</button> <button name=\"action\" value=\"deny\" class=\"secondary\">Deny</button>"),
            request.RedirectUri);
    }

    // A form posting back to this page with the app's request parameters and an antiforgery token.
    private static string Form(HttpContext http, IAntiforgery antiforgery, OpenIddictRequest request, string path, string fields)
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

        return $"<form method=\"post\" action=\"{E(http.Request.PathBase + path)}\">{carried}"
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
