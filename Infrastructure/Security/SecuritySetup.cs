using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;

namespace SliceApi.Infrastructure.Security;

/// <summary>
/// JWT bearer and API key authentication. Secure by default: every FastEndpoints endpoint requires an
/// authenticated caller unless it says <c>AllowAnonymous()</c>; roles are declared with <c>Roles(...)</c> in <c>Configure()</c>.
/// </summary>
internal static class SecuritySetup
{
    // Requests with X-Api-Key go to the API key handler, app tokens (at+jwt) to OpenIddict's validation, all others to JWT bearer.
    private const string BearerOrApiKey = "BearerOrApiKey";

    /// <summary>
    /// Registers access-token validation and the forwarding of requests with <c>X-Api-Key</c> to the <see cref="ApiKeyScheme.Name"/> scheme. Start-up fails outside Development when
    /// <c>Jwt:SigningKey</c> is missing, shorter than 32 bytes, or the committed development key.
    /// </summary>
    public static IServiceCollection AddApiSecurity(this IServiceCollection services)
    {
        services.AddOptions<JwtOptions>()
            .BindConfiguration(JwtOptions.Section)
            .ValidateDataAnnotations()
            .Validate(o => o.SigningKeyBytes.Length >= 32,
                "Jwt:SigningKey must be set to a secret of at least 32 bytes. Set the environment variable Jwt__SigningKey (for example to the output of 'openssl rand -base64 48').")
            .Validate<IHostEnvironment>((o, environment) => environment.IsDevelopment() || o.SigningKey != JwtOptions.DevelopmentKey,
                "Jwt:SigningKey is the development key from appsettings.Development.json; set a secret of your own with Jwt__SigningKey outside Development.")
            .ValidateOnStart();

        services.AddSingleton<CachingAccessTokenHandler>();
        services.AddSingleton<IRevocationSubscriber>(provider => provider.GetRequiredService<CachingAccessTokenHandler>());
        services.AddSingleton<Revocations>();
        services.AddAuthentication(BearerOrApiKey)
            .AddPolicyScheme(BearerOrApiKey, "Bearer access token or API key", policy => policy.ForwardDefaultSelector = SelectScheme)
            .AddJwtBearer(); // the ApiKey and app token schemes are added by the features that own them
        services.AddOptions<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme)
            .Configure<IOptions<JwtOptions>, CachingAccessTokenHandler>((bearer, jwt, handler) =>
            {
                var settings = jwt.Value;
                bearer.MapInboundClaims = false;
                bearer.TokenHandlers.Clear();
                bearer.TokenHandlers.Add(handler);
                bearer.Events = new JwtBearerEvents
                {
                    OnTokenValidated = async context =>
                    {
                        if (await PrincipalChecks.RunAsync(context.HttpContext.RequestServices, context.Principal!, context.HttpContext.RequestAborted) is { } refusal)
                        {
                            context.Fail(refusal);
                        }
                    },
                };
                bearer.TokenValidationParameters = new TokenValidationParameters
                {
                    ValidIssuer = settings.Issuer,
                    ValidAudience = settings.Audience,
                    IssuerSigningKey = new SymmetricSecurityKey(settings.SigningKeyBytes),
                    ValidAlgorithms = [SecurityAlgorithms.HmacSha256],
                    NameClaimType = AccessTokenClaims.Subject,
                    RoleClaimType = AccessTokenClaims.Role,
                    ClockSkew = TimeSpan.FromSeconds(settings.ClockSkewSeconds),
                };
            });

        services.AddAuthorization();
        return services;
    }

    private static string SelectScheme(HttpContext http) =>
        http.Request.Headers.ContainsKey(ApiKeyScheme.Header) ? ApiKeyScheme.Name
        : AppTokenScheme.Carries(http.Request) ? AppTokenScheme.Name
        : JwtBearerDefaults.AuthenticationScheme;
}
