using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Microsoft.Extensions.Options;
using SliceApi.Infrastructure.Data;
using SliceApi.Infrastructure.Security;

namespace SliceApi.Infrastructure.Http;

/// <summary>
/// A stored outcome of a request sent with an <c>Idempotency-Key</c> (table <c>idempotency_keys</c>, migration 0008):
/// per user and key, the request's fingerprint and the response to replay, kept for
/// <see cref="IdempotencyKeys.Retention"/>.
/// </summary>
internal sealed class IdempotencyRecord
{
    public Guid UserId { get; init; }

    /// <summary>The key as the client sent it (without sf-string quotes), 1 to 255 characters.</summary>
    public required string Key { get; init; }

    /// <summary>SHA-256 of the method, path and request body (as bound, so whitespace and member order do not count).</summary>
    public required byte[] Fingerprint { get; init; }

    public int StatusCode { get; init; }

    public string? ContentType { get; init; }

    public string? Location { get; init; }

    public string? ETag { get; init; }

    public required byte[] Body { get; init; }

    /// <summary>UTC.</summary>
    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>UTC; after this the key may be used for a new request.</summary>
    public DateTimeOffset ExpiresAt { get; init; }
}

/// <summary>Maps <see cref="IdempotencyRecord"/> onto <c>idempotency_keys</c>.</summary>
internal sealed class IdempotencyRecordConfiguration : IEntityTypeConfiguration<IdempotencyRecord>
{
    public void Configure(EntityTypeBuilder<IdempotencyRecord> builder)
    {
        builder.ToTable("idempotency_keys");
        builder.HasKey(r => new { r.UserId, r.Key });
        builder.Property(r => r.UserId).HasColumnName("user_id");
        builder.Property(r => r.Key).HasColumnName("key").HasMaxLength(IdempotencyKeys.MaxKeyLength);
        builder.Property(r => r.Fingerprint).HasColumnName("fingerprint");
        builder.Property(r => r.StatusCode).HasColumnName("status_code");
        builder.Property(r => r.ContentType).HasColumnName("content_type").HasMaxLength(200);
        builder.Property(r => r.Location).HasColumnName("location").HasMaxLength(2000);
        builder.Property(r => r.ETag).HasColumnName("etag").HasMaxLength(200);
        builder.Property(r => r.Body).HasColumnName("body");
        builder.Property(r => r.CreatedAt).HasColumnName("created_at");
        builder.Property(r => r.ExpiresAt).HasColumnName("expires_at");
        builder.HasIndex(r => r.ExpiresAt).HasDatabaseName("ix_idempotency_keys_expires_at");
    }
}

/// <summary>Marks an endpoint that honours <c>Idempotency-Key</c>; the OpenAPI document lists the header and its errors.</summary>
internal sealed class IdempotencyKeyMetadata
{
    public static readonly IdempotencyKeyMetadata Instance = new();
}

/// <summary>
/// Idempotent POST (IETF draft-ietf-httpapi-idempotency-key-header): a request with an <c>Idempotency-Key</c> header
/// runs once per user and key; a retry with the same key and the same body gets the original status, headers
/// (Location, ETag) and body, with <c>Idempotent-Replayed: true</c>, and changes nothing; the same key with another
/// body is 422. Keys live in PostgreSQL for 24 hours, so retries are safe across instances and restarts.
/// </summary>
/// <remarks>
/// The key is claimed by an INSERT in the same transaction as the handler's writes, so a concurrent retry waits on
/// the row lock and then replays the committed outcome, and a crash leaves neither the task nor the key. Only
/// successful (2xx) outcomes are kept: after a 4xx the client may fix the request and retry with the same key.
/// </remarks>
internal static class IdempotencyKeys
{
    /// <summary>The request header (draft section 2).</summary>
    public const string Header = "Idempotency-Key";

    /// <summary>The response header that marks a replayed outcome.</summary>
    public const string ReplayedHeader = "Idempotent-Replayed";

    /// <summary>The longest key accepted, in characters.</summary>
    public const int MaxKeyLength = 255;

    /// <summary>How long an outcome is kept: 24 hours.</summary>
    public static readonly TimeSpan Retention = TimeSpan.FromHours(24);

    /// <summary>
    /// Honours <c>Idempotency-Key</c> on this endpoint; <typeparamref name="TRequest"/> is its body, whose bound value
    /// (not its bytes: whitespace and member order do not count) is fingerprinted. The filter runs before binding and
    /// validation, so a replay skips them and a 4xx outcome is not kept.
    /// </summary>
    public static void IdempotencyKey<TRequest>(this FastEndpoints.EndpointDefinition endpoint)
    {
        endpoint.Options(b => b.AddEndpointFilterFactory(Create<TRequest>).WithMetadata(IdempotencyKeyMetadata.Instance));
        endpoint.Description(b => b.ProducesProblem(StatusCodes.Status422UnprocessableEntity));
    }

    /// <summary>Registers the hourly purge of expired keys.</summary>
    public static IServiceCollection AddIdempotencyKeys(this IServiceCollection services) =>
        services.AddHostedService<IdempotencyKeyPurge>();

    /// <summary>
    /// Parses the header: an RFC 8941 sf-string (<c>"..."</c>) or, leniently, the bare text; 1 to 255 visible
    /// ASCII characters or spaces. Null when absent; <paramref name="error"/> says what is wrong otherwise.
    /// </summary>
    public static string? Parse(HttpRequest request, out string? error)
    {
        error = null;
        var values = request.Headers[Header];
        if (values.Count == 0)
        {
            return null;
        }

        var text = values.Count == 1 ? values[0]!.Trim() : "";
        if (text.Length >= 2 && text[0] == '"' && text[^1] == '"')
        {
            text = text[1..^1];
        }

        if (text.Length is 0 or > MaxKeyLength || text.Any(c => c is < ' ' or > '~' or '"' or '\\'))
        {
            error = $"Send one {Header} of 1 to {MaxKeyLength} visible ASCII characters, e.g. {Header}: \"8e03978e-40d5-43e8-bc93-6894a57f9324\".";
            return null;
        }

        return text;
    }

    private static EndpointFilterDelegate Create<TRequest>(EndpointFilterFactoryContext factoryContext, EndpointFilterDelegate next)
    {
        var json = factoryContext.ApplicationServices.GetRequiredService<IOptions<JsonOptions>>().Value.SerializerOptions;
        return async context =>
        {
            var http = context.HttpContext;
            var key = Parse(http.Request, out var error);
            if (error is not null)
            {
                return TypedResults.ValidationProblem(
                    new Dictionary<string, string[]> { [Header] = [error] }, title: "The request is invalid.", detail: error);
            }

            if (key is null)
            {
                return await next(context);
            }

            var fingerprint = Fingerprint(http.Request, await CanonicalBodyAsync<TRequest>(http.Request, json));
            return await RunOnceAsync(context, next, http.User.GetUserId(), key, fingerprint);
        };
    }

    // The body as the endpoint will bind it, serialized again; the raw bytes when it does not bind (the endpoint then
    // answers 400, and 4xx outcomes are not kept). The body is left readable for the endpoint.
    private static async Task<byte[]> CanonicalBodyAsync<TRequest>(HttpRequest request, JsonSerializerOptions json)
    {
        request.EnableBuffering();
        using var raw = new MemoryStream();
        await request.Body.CopyToAsync(raw, request.HttpContext.RequestAborted);
        request.Body.Position = 0;
        try
        {
            return JsonSerializer.SerializeToUtf8Bytes(JsonSerializer.Deserialize<TRequest>(raw.ToArray(), json), json);
        }
        catch (JsonException)
        {
            return raw.ToArray();
        }
    }

    private static async ValueTask<object?> RunOnceAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next, Guid userId, string key, byte[] fingerprint)
    {
        var http = context.HttpContext;
        var ct = http.RequestAborted;
        var db = http.RequestServices.GetRequiredService<AppDbContext>();
        var now = http.RequestServices.GetRequiredService<TimeProvider>().GetStoredUtcNow();
        var expiresAt = now + Retention;
        var empty = Array.Empty<byte>();

        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        // Claims the key, or takes over an expired one. A concurrent request with the same key waits here until the
        // first commits (then finds its outcome) or rolls back (then runs itself).
        var claimed = await db.Database.ExecuteSqlAsync($"""
            INSERT INTO idempotency_keys (user_id, key, fingerprint, status_code, body, created_at, expires_at)
            VALUES ({userId}, {key}, {fingerprint}, 0, {empty}, {now}, {expiresAt})
            ON CONFLICT (user_id, key) DO UPDATE
                SET fingerprint = EXCLUDED.fingerprint, status_code = 0, content_type = NULL, location = NULL, etag = NULL,
                    body = EXCLUDED.body, created_at = EXCLUDED.created_at, expires_at = EXCLUDED.expires_at
                WHERE idempotency_keys.expires_at <= EXCLUDED.created_at
            """, ct);
        if (claimed == 0)
        {
            var stored = await db.Set<IdempotencyRecord>().SingleAsync(r => r.UserId == userId && r.Key == key, ct);
            await transaction.RollbackAsync(ct);
            return stored.Fingerprint.AsSpan().SequenceEqual(fingerprint)
                ? new ReplayResult(stored)
                : TypedResults.Problem(
                    statusCode: StatusCodes.Status422UnprocessableEntity,
                    title: "Idempotency-Key reused with another request.",
                    detail: $"This {Header} was first used with a different request body (kept until {stored.ExpiresAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture)}); send a new key for a new request.");
        }

        // Runs the handler with the response buffered, so the outcome can be stored before it is sent.
        var original = http.Response.Body;
        using var buffer = new MemoryStream();
        http.Response.Body = buffer;
        try
        {
            var result = await next(context);
            if (result is IResult executable)
            {
                await executable.ExecuteAsync(http);
            }
            else if (result is not null)
            {
                await http.Response.WriteAsJsonAsync(result, ct);
            }
        }
        finally
        {
            http.Response.Body = original;
        }

        var response = http.Response;
        if (response.StatusCode is >= 200 and < 300)
        {
            var body = buffer.ToArray();
            string? contentType = response.ContentType, location = response.Headers.Location, etag = response.Headers.ETag;
            await db.Database.ExecuteSqlAsync($"""
                UPDATE idempotency_keys
                SET status_code = {response.StatusCode}, content_type = {contentType}, location = {location}, etag = {etag}, body = {body}
                WHERE user_id = {userId} AND key = {key}
                """, ct);
            await transaction.CommitAsync(ct);
        }
        else
        {
            await transaction.RollbackAsync(ct);
        }

        buffer.Position = 0;
        await buffer.CopyToAsync(original, ct);
        return Results.Empty;
    }

    private static byte[] Fingerprint(HttpRequest request, byte[] body)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(System.Text.Encoding.UTF8.GetBytes($"{request.Method} {request.PathBase}{request.Path}\n"));
        hash.AppendData(body);
        return hash.GetHashAndReset();
    }

    /// <summary>Writes a stored outcome again, marked with <c>Idempotent-Replayed: true</c>.</summary>
    private sealed class ReplayResult(IdempotencyRecord record) : IResult
    {
        public async Task ExecuteAsync(HttpContext httpContext)
        {
            var response = httpContext.Response;
            response.StatusCode = record.StatusCode;
            response.ContentType = record.ContentType;
            if (record.Location is not null)
            {
                response.Headers.Location = record.Location;
            }

            if (record.ETag is not null)
            {
                response.Headers.ETag = record.ETag;
                response.Headers.CacheControl = "private, no-cache";
            }

            response.Headers[ReplayedHeader] = "true";
            await response.Body.WriteAsync(record.Body, httpContext.RequestAborted);
        }
    }
}

/// <summary>Deletes expired idempotency keys every hour (expired ones are also taken over when reused).</summary>
internal sealed partial class IdempotencyKeyPurge(IServiceScopeFactory scopes, TimeProvider clock, ILogger<IdempotencyKeyPurge> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromHours(1), clock);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await using var scope = scopes.CreateAsyncScope();
                var now = clock.GetUtcNow();
                var deleted = await scope.ServiceProvider.GetRequiredService<AppDbContext>()
                    .Set<IdempotencyRecord>().Where(r => r.ExpiresAt <= now).ExecuteDeleteAsync(stoppingToken);
                LogPurged(logger, deleted);
            }
            catch (Exception exception) when (exception is Npgsql.NpgsqlException or InvalidOperationException)
            {
                LogPurgeFailed(logger, exception);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Deleted {Count} expired idempotency key(s)")]
    private static partial void LogPurged(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Purging expired idempotency keys failed; will retry in an hour")]
    private static partial void LogPurgeFailed(ILogger logger, Exception exception);
}
