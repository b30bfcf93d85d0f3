using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;
using SliceApi.Features.Users;
using SliceApi.Infrastructure.Data;
using SliceApi.Infrastructure.Json;
using SliceApi.Infrastructure.OpenApi;
using SliceApi.Infrastructure.Security;
using SliceApi.Infrastructure.Telemetry;

namespace SliceApi.Features.Tasks;

/// <summary>
/// A stored outcome of a request sent with an <c>Idempotency-Key</c>, a Marten document (<c>mt_doc_idempotencyrecord</c>)
/// whose id is <c>{user id}:{key}</c>: the request's fingerprint and the response to replay, kept for
/// <see cref="IdempotencyKeys.Retention"/>.
/// </summary>
internal sealed class IdempotencyRecord
{
    /// <summary><c>{user id}:{key}</c>, so a key is claimed once per user by the document's primary key.</summary>
    public required string Id { get; init; }

    /// <summary>The user who sent the key; a foreign key to <c>mt_doc_user</c> deletes the record with the account.</summary>
    public Guid UserId { get; init; }

    /// <summary>SHA-256 of the method, path and request body (as bound, so whitespace and member order do not count).</summary>
    public required byte[] Fingerprint { get; init; }

    /// <summary>The status of the stored response; 0 while the first request is still running.</summary>
    public int StatusCode { get; set; }

    /// <summary>The stored response's <c>Content-Type</c>.</summary>
    public string? ContentType { get; set; }

    /// <summary>The stored response's <c>Location</c> (the created task), replayed as sent.</summary>
    public string? Location { get; set; }

    /// <summary>The stored response's <c>ETag</c> (the task's revision when it was created).</summary>
    public string? ETag { get; set; }

    /// <summary>The stored response body, byte for byte.</summary>
    public byte[] Body { get; set; } = [];

    /// <summary>UTC.</summary>
    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>UTC; after this the key may be used for a new request.</summary>
    public DateTimeOffset ExpiresAt { get; init; }

    /// <summary>The document id of <paramref name="key"/> for <paramref name="userId"/>.</summary>
    public static string IdFor(Guid userId, string key) => $"{userId:N}:{key}";
}

/// <summary>
/// The storage of <see cref="IdempotencyRecord"/>: the expiry duplicated and indexed for the purge, and a foreign key
/// to the user, so a user's stored outcomes go with the account.
/// </summary>
internal sealed class IdempotencyRecordMapping : Marten.IConfigureMarten
{
    public void Configure(IServiceProvider services, Marten.StoreOptions options)
    {
#pragma warning disable CS0618 // Weasel 9.49's ForeignKey.OnDelete still has the type it marks obsolete
        options.Schema.For<IdempotencyRecord>()
            .Duplicate(r => r.ExpiresAt, configure: ix => ix.Name = "ix_idempotency_record_expires_at")
            .ForeignKey<User>(r => r.UserId, fk => fk.OnDelete = Weasel.Postgresql.CascadeAction.Cascade);
#pragma warning restore CS0618
    }
}

/// <summary>
/// Idempotent POST (IETF draft-ietf-httpapi-idempotency-key-header): a request with an <c>Idempotency-Key</c> header
/// runs once per user and key; a retry with the same key and the same body gets the original status, headers
/// (Location, ETag) and body, with <c>Idempotent-Replayed: true</c>, and changes nothing; the same key with another
/// body is 422. Keys live in PostgreSQL (Marten documents) for 24 hours, so retries are safe across instances and restarts.
/// </summary>
/// <remarks>
/// The key is claimed by inserting its record in the same transaction as the handler's writes (the request's
/// document session enlists in it as a <see cref="RequestTransaction"/>), so a concurrent retry waits on
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
        endpoint.Options(b => b.AddEndpointFilterFactory(Create<TRequest>).WithMetadata(new DocumentedHeader(
            Header,
            "Makes retries safe (draft-ietf-httpapi-idempotency-key-header): a retry with the same key and body within 24 hours " +
            "gets the first response again (with Idempotent-Replayed: true) and creates nothing; the same key with another body is 422.",
            MaxKeyLength,
            "\"8e03978e-40d5-43e8-bc93-6894a57f9324\"")));
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
    // answers 400, and 4xx outcomes are not kept). A body that binds is handed to the endpoint's binder, which takes it
    // instead of parsing the body again; one that does not is left readable for the binder to report.
    private static async Task<byte[]> CanonicalBodyAsync<TRequest>(HttpRequest request, JsonSerializerOptions json)
    {
        request.EnableBuffering();
        using var raw = new MemoryStream();
        await request.Body.CopyToAsync(raw, request.HttpContext.RequestAborted);
        request.Body.Position = 0;
        try
        {
            if (JsonSerializer.Deserialize<TRequest>(raw.GetBuffer().AsSpan(0, (int)raw.Length), json) is { } body)
            {
                ParsedRequestBody.Set(request.HttpContext, body);
                return JsonSerializer.SerializeToUtf8Bytes(body, json);
            }
        }
        catch (JsonException)
        {
        }

        return raw.ToArray();
    }

    private static async ValueTask<object?> RunOnceAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next, Guid userId, string key, byte[] fingerprint)
    {
        var http = context.HttpContext;
        var ct = http.RequestAborted;
        var store = http.RequestServices.GetRequiredService<Marten.IDocumentStore>();
        var now = http.RequestServices.GetRequiredService<TimeProvider>().GetStoredUtcNow();
        var record = new IdempotencyRecord
        {
            Id = IdempotencyRecord.IdFor(userId, key), UserId = userId, Fingerprint = fingerprint, CreatedAt = now, ExpiresAt = now + Retention,
        };

        await using var connection = await http.RequestServices.GetRequiredService<Npgsql.NpgsqlDataSource>().OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        // Claims the key, or takes over an expired one. A concurrent request with the same key waits on the inserted
        // row until the first commits (then finds its outcome) or rolls back (then runs itself).
        await using (var claim = store.LightweightSession(Marten.Services.SessionOptions.ForTransaction(transaction, shouldAutoCommit: false)))
        {
            claim.DeleteWhere<IdempotencyRecord>(r => r.Id == record.Id && r.ExpiresAt <= now);
            claim.Insert(record);
            try
            {
                await claim.SaveChangesAsync(ct);
            }
            catch (JasperFx.DocumentAlreadyExistsException)
            {
                await transaction.RollbackAsync(ct);
                await using var read = store.QuerySession();
                var stored = await read.LoadAsync<IdempotencyRecord>(record.Id, ct);
                return stored is null
                    ? TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Idempotency-Key in use.",
                        detail: $"A request with this {Header} was still running; retry it.")
                    : stored.Fingerprint.AsSpan().SequenceEqual(fingerprint)
                        ? new ReplayResult(stored)
                        : TypedResults.Problem(
                            statusCode: StatusCodes.Status422UnprocessableEntity,
                            title: "Idempotency-Key reused with another request.",
                            detail: $"This {Header} was first used with a different request body (kept until {stored.ExpiresAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture)}); send a new key for a new request.");
            }
        }

        // Runs the handler in the claim's transaction, with the response buffered, so the outcome can be stored before it is sent.
        http.Features.Set(new RequestTransaction(transaction));
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
            http.Features.Set<RequestTransaction>(null);
        }

        var response = http.Response;
        if (response.StatusCode is >= 200 and < 300)
        {
            record.StatusCode = response.StatusCode;
            record.ContentType = response.ContentType;
            record.Location = response.Headers.Location;
            record.ETag = response.Headers.ETag;
            record.Body = buffer.ToArray();
            await using (var complete = store.LightweightSession(Marten.Services.SessionOptions.ForTransaction(transaction, shouldAutoCommit: false)))
            {
                complete.Update(record);
                await complete.SaveChangesAsync(ct);
            }

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
            httpContext.RequestServices.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>()
                .ApiCounter("sliceapi.idempotency.replays", "{response}", "Responses replayed for a repeated Idempotency-Key (nothing was done again).").Add(1);
            await response.Body.WriteAsync(record.Body, httpContext.RequestAborted);
        }
    }
}

/// <summary>Deletes expired idempotency keys every hour (expired ones are also taken over when reused).</summary>
internal sealed partial class IdempotencyKeyPurge(Marten.IDocumentStore store, TimeProvider clock, ILogger<IdempotencyKeyPurge> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromHours(1), clock);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await using var session = store.LightweightSession();
                var now = clock.GetUtcNow();
                session.DeleteWhere<IdempotencyRecord>(r => r.ExpiresAt <= now);
                await session.SaveChangesAsync(stoppingToken);
                LogPurged(logger);
            }
            catch (Exception exception) when (exception is Npgsql.NpgsqlException or InvalidOperationException)
            {
                LogPurgeFailed(logger, exception);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Deleted the expired idempotency keys")]
    private static partial void LogPurged(ILogger logger);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Purging expired idempotency keys failed; will retry in an hour")]
    private static partial void LogPurgeFailed(ILogger logger, Exception exception);
}
