using Microsoft.AspNetCore.Mvc;

namespace SliceApi.Infrastructure.Security;

/// <summary>The scopes of the API: an API key can hold the task scopes (<see cref="All"/>), an app any of them.</summary>
internal static class ApiScopes
{
    /// <summary>Read tasks.</summary>
    public const string TasksRead = "tasks:read";

    /// <summary>Create, change and delete tasks.</summary>
    public const string TasksWrite = "tasks:write";

    /// <summary>Read the user's own account (apps only).</summary>
    public const string Profile = "profile";

    /// <summary>Every scope an API key can hold.</summary>
    public static readonly IReadOnlyList<string> All = [TasksRead, TasksWrite];

    /// <summary>What each scope lets an app do, in the words of the consent page and the OpenAPI document, in that order.</summary>
    public static readonly IReadOnlyDictionary<string, string> Descriptions = new Dictionary<string, string>
    {
        [TasksRead] = "See your tasks",
        [TasksWrite] = "Create, change and delete your tasks",
        [Profile] = "See your account: email, display name and role",
        ["offline_access"] = "Keep this access while you are away (a refresh token)",
    };

    /// <summary>The claim type carrying one scope per claim.</summary>
    public const string ClaimType = "scope";
}

/// <summary>
/// The API-key authentication scheme as the rest of the API sees it (the handler is the ApiKeys feature's): requests
/// carrying <see cref="Header"/> are authenticated by scheme <see cref="Name"/>, whose principal carries
/// <see cref="KeyIdClaim"/> and one <see cref="ApiScopes.ClaimType"/> claim per granted scope.
/// </summary>
internal static class ApiKeyScheme
{
    /// <summary>The scheme name.</summary>
    public const string Name = "ApiKey";

    /// <summary>The request header carrying the key.</summary>
    public const string Header = "X-Api-Key";

    /// <summary>The claim carrying the id of the key a request came with (rate limits count per key).</summary>
    public const string KeyIdClaim = "api_key_id";
}

/// <summary>
/// The scheme of third-party apps' access tokens (added by the OAuth feature: OpenIddict's validation): bearer tokens whose
/// JOSE header says <c>typ: at+jwt</c> (RFC 9068 section 2.1). Its principal carries <c>client_id</c> and one
/// <see cref="ApiScopes.ClaimType"/> claim per granted scope.
/// </summary>
internal static class AppTokenScheme
{
    /// <summary>The scheme name (OpenIddict's <c>OpenIddictValidationAspNetCoreDefaults.AuthenticationScheme</c>).</summary>
    public const string Name = "OpenIddict.Validation.AspNetCore";

    /// <summary>Whether <paramref name="request"/>'s <c>Authorization</c> is a bearer app token (<see cref="IsAppToken"/>).</summary>
    public static bool Carries(HttpRequest request)
    {
        var authorization = request.Headers.Authorization.ToString();
        return authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) && IsAppToken(authorization.AsSpan(7).Trim());
    }

    /// <summary>
    /// Whether a bearer token's JOSE header (its first segment, base64url) says <c>typ: at+jwt</c> (or
    /// <c>application/at+jwt</c>; media types compare ignoring case). Runs for every bearer request, so it decodes on the
    /// stack and allocates nothing.
    /// </summary>
    public static bool IsAppToken(ReadOnlySpan<char> token)
    {
        var end = token.IndexOf('.');
        if (end is <= 0 or > 512)
        {
            return false;
        }

        Span<byte> header = stackalloc byte[384];
        if (System.Buffers.Text.Base64Url.DecodeFromChars(token[..end], header, out _, out var written) != System.Buffers.OperationStatus.Done)
        {
            return false;
        }

        header = header[..written];
        System.Text.Ascii.ToLowerInPlace(header, out _);
        return header.IndexOf("\"at+jwt\""u8) >= 0 || header.IndexOf("/at+jwt\""u8) >= 0;
    }
}

/// <summary>Marks an endpoint as callable by an API key or an app token holding <see cref="Scope"/>; endpoints without it refuse both.</summary>
/// <param name="Scope">The scope required.</param>
internal sealed record RequiredScope(string Scope);

/// <summary>
/// Scope enforcement for callers that hold scopes (API keys and apps' access tokens); endpoints declare their scope with
/// <c>ScopeGrants(...)</c> in <c>Configure()</c>. The user's own access tokens are governed by their role alone.
/// </summary>
internal static class ApiKeyScopes
{
    /// <summary>
    /// After authorization: a caller authenticated by API key or app token may only call endpoints that name a scope,
    /// and only with that scope granted; otherwise 403 with a problem naming what is missing, and for app tokens
    /// <c>WWW-Authenticate: Bearer error="insufficient_scope"</c> (RFC 6750 section 3.1).
    /// </summary>
    public static WebApplication UseApiKeyScopes(this WebApplication app)
    {
        app.Use(async (http, next) =>
        {
            if (http.User.Identity is { IsAuthenticated: true, AuthenticationType: ApiKeyScheme.Name or AppTokenScheme.Name } identity)
            {
                var required = http.GetEndpoint()?.Metadata.GetMetadata<RequiredScope>();
                var isApp = identity.AuthenticationType == AppTokenScheme.Name;
                var detail = (required, isApp) switch
                {
                    (null, false) => "This endpoint does not accept API keys; send an access token instead.",
                    (null, true) => "No scope an app can be granted reaches this endpoint; only the user's own access token can call it.",
                    _ when http.User.HasClaim(ApiScopes.ClaimType, required.Scope) => null,
                    (_, false) => $"The API key lacks the scope '{required.Scope}'.",
                    _ => $"The app's access token lacks the scope '{required.Scope}'.",
                };
                if (detail is not null)
                {
                    if (isApp)
                    {
                        http.Response.Headers.WWWAuthenticate = required is null
                            ? "Bearer error=\"insufficient_scope\""
                            : $"Bearer error=\"insufficient_scope\", scope=\"{required.Scope}\"";
                    }

                    http.Response.StatusCode = StatusCodes.Status403Forbidden;
                    await http.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
                    {
                        HttpContext = http,
                        ProblemDetails = new ProblemDetails { Status = StatusCodes.Status403Forbidden, Title = "Insufficient scope.", Detail = detail },
                    });
                    return;
                }
            }

            await next(http);
        });
        return app;
    }
}
