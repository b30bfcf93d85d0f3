using Microsoft.AspNetCore.Mvc;

namespace SliceApi.Infrastructure.Security;

/// <summary>The scopes an API key can hold.</summary>
internal static class ApiScopes
{
    /// <summary>Read tasks.</summary>
    public const string TasksRead = "tasks:read";

    /// <summary>Create, change and delete tasks.</summary>
    public const string TasksWrite = "tasks:write";

    /// <summary>Every scope.</summary>
    public static readonly IReadOnlyList<string> All = [TasksRead, TasksWrite];

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

/// <summary>Marks an endpoint as callable with an API key holding <see cref="Scope"/>; endpoints without it refuse API keys.</summary>
/// <param name="Scope">The scope required.</param>
internal sealed record RequiredScope(string Scope);

/// <summary>Scope enforcement for API-key callers; endpoints declare their scope with <c>ApiKeyScope(...)</c> in <c>Configure()</c>.</summary>
internal static class ApiKeyScopes
{
    /// <summary>
    /// After authorization: a caller authenticated by API key may only call endpoints that name a scope, and only
    /// with that scope granted; otherwise 403 with a problem saying what is missing.
    /// </summary>
    public static WebApplication UseApiKeyScopes(this WebApplication app)
    {
        app.Use(async (http, next) =>
        {
            if (http.User.Identity is { IsAuthenticated: true, AuthenticationType: ApiKeyScheme.Name })
            {
                var required = http.GetEndpoint()?.Metadata.GetMetadata<RequiredScope>();
                var detail = required is null
                    ? "This endpoint does not accept API keys; send an access token instead."
                    : http.User.HasClaim(ApiScopes.ClaimType, required.Scope) ? null : $"The API key lacks the scope '{required.Scope}'.";
                if (detail is not null)
                {
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
