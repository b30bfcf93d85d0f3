using System.Buffers.Text;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using FluentValidation;
using Marten;
using Microsoft.AspNetCore.Http.HttpResults;
using SliceApi.Infrastructure.Data;
using SliceApi.Infrastructure.Endpoints;
using SliceApi.Infrastructure.Security;
using SliceApi.Infrastructure.Validation;
using FastEndpoints;

namespace SliceApi.Features.ApiKeys;

/// <summary>Body of <c>POST /api/v1/api-keys</c>: a new API key.</summary>
public sealed class CreateApiKeyRequest
{
    /// <summary>1 to 100 characters, to tell keys apart.</summary>
    public string Name { get; set; } = "";

    /// <summary>One or both of <c>tasks:read</c>, <c>tasks:write</c>.</summary>
    [System.ComponentModel.DataAnnotations.MaxLength(2)]
    public string[] Scopes { get; set; } = [];

    /// <summary>When the key stops working (RFC 3339 date-time with offset, in the future), or null for never.</summary>
    public DateTimeOffset? ExpiresAt { get; set; }
}

/// <summary>The new key: the secret appears here once and is never shown again.</summary>
/// <param name="Key">Send as <c>X-Api-Key: &lt;key&gt;</c>.</param>
/// <param name="ApiKey">The key's details, as GET /api/v1/api-keys lists them.</param>
public sealed record CreateApiKeyResponse([property: System.ComponentModel.DataAnnotations.MaxLength(46)] string Key, ApiKeyResponse ApiKey);

/// <summary>Shape rules of <see cref="CreateApiKeyRequest"/>.</summary>
internal sealed class CreateApiKeyValidator : Validator<CreateApiKeyRequest>
{
    public CreateApiKeyValidator()
    {
        RuleFor(x => x.Name).Cascade(CascadeMode.Stop).NotEmpty()
            .TrimmedLength(1, 100);
        RuleFor(x => x.Scopes).Cascade(CascadeMode.Stop).NotEmpty()
            .EachOneOf(ApiScopes.All).WithMessage("'scopes' may hold only tasks:read and tasks:write.")
            .Must(s => s is null || s.Length <= ApiScopes.All.Count).WithMessage($"'scopes' holds at most {ApiScopes.All.Count} scopes.");
        RuleFor(x => x.ExpiresAt).Must(e => e is null || e > Resolve<TimeProvider>().GetUtcNow()).WithMessage("'expiresAt' must be in the future.");
    }
}

/// <summary>
/// <c>POST /api/v1/api-keys</c>: creates an API key acting as the caller, limited to the given scopes. A caller who
/// already holds <see cref="ApiKey.MaxActivePerUser"/> keys that are neither revoked nor expired gets a 409 problem;
/// creates of one owner take turns, so a burst of them cannot pass the limit.
/// </summary>
internal sealed class CreateApiKey(IDocumentSession session, TimeProvider clock)
    : Endpoint<CreateApiKeyRequest, Results<Created<CreateApiKeyResponse>, ProblemHttpResult>>
{
    public override void Configure()
    {
        Post("api-keys");
        Group<ApiKeysGroup>();
        Description(b => b.ProducesProblem(StatusCodes.Status409Conflict));
        Summary(s =>
        {
            s.Summary = "Create an API key (the secret is shown once)";
            s.ExampleRequest = new CreateApiKeyRequest { Name = "nightly report script", Scopes = ["tasks:read"], ExpiresAt = new DateTimeOffset(2027, 1, 31, 0, 0, 0, TimeSpan.Zero) };
        });
    }

    public override async Task<Results<Created<CreateApiKeyResponse>, ProblemHttpResult>> ExecuteAsync(CreateApiKeyRequest req, CancellationToken ct)
    {
        var (request, caller, http) = (req, User, HttpContext);
        var now = clock.GetStoredUtcNow();
        var ownerId = caller.GetUserId();
        await session.TakeTurnAsync(7333, ownerId.ToString(), ct); // so a burst of creates cannot pass the limit
        var active = await session.Query<ApiKey>()
            .CountAsync(k => k.OwnerId == ownerId && k.RevokedAt == null && (k.ExpiresAt == null || k.ExpiresAt > now), ct);
        if (active >= ApiKey.MaxActivePerUser)
        {
            return TypedResults.Problem(
                statusCode: StatusCodes.Status409Conflict,
                title: "Too many API keys.",
                detail: $"You hold {active} API keys that still work, the most allowed; revoke one (DELETE /api/v1/api-keys/{{id}}) first.");
        }

        var secret = "sk_" + Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));
        var key = new ApiKey
        {
            Id = Guid.CreateVersion7(),
            OwnerId = ownerId,
            Name = request.Name.Trim(),
            Scopes = request.Scopes.Distinct().Order(StringComparer.Ordinal).ToArray(),
            KeyHash = ApiKey.HashText(SHA256.HashData(Encoding.UTF8.GetBytes(secret))),
            Prefix = secret[..12],
            CreatedAt = now,
            ExpiresAt = request.ExpiresAt?.ToStoredPrecision(),
        };
        session.Insert(key);
        await session.SaveChangesAsync(ct);
        http.Response.Headers.CacheControl = "no-store";
        return TypedResults.Created($"{ApiEndpoints.V1Prefix}/api-keys/{key.Id}", new CreateApiKeyResponse(secret, ApiKeyResponse.From(key)));
    }
}
