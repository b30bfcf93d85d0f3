// The floor of the benchmark: the same task routes as SliceApi, on the same database and the same rows (Marten's
// document table mt_doc_taskitem: the JSON document plus its duplicated columns; a create also writes the task's history
// stream and created event, as SliceApi does), with raw Npgsql and System.Text.Json and no validation, authentication,
// Marten or problem details. The owner filter comes from the X-Owner-Id header
// (absent: every task, as for an admin) so both sides run the same SQL.
using System.Buffers.Binary;
using System.Buffers.Text;
using System.Text.Json;
using Npgsql;

var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.ClearProviders();
var dataSource = NpgsqlDataSource.Create(builder.Configuration.GetConnectionString("Postgres")!);
var app = builder.Build();

var json = new System.Text.Json.JsonSerializerOptions(System.Text.Json.JsonSerializerDefaults.Web);

app.MapGet("/api/v1/tasks/{id:guid}", async (Guid id, HttpContext http) =>
{
    var owner = OwnerOf(http);
    await using var command = dataSource.CreateCommand(
        "SELECT data FROM mt_doc_taskitem WHERE id = $1" + (owner is null ? string.Empty : " AND owner_id = $2") + " LIMIT 1");
    command.Parameters.Add(new NpgsqlParameter { Value = id });
    if (owner is not null)
    {
        command.Parameters.Add(new NpgsqlParameter { Value = owner.Value });
    }

    await using var reader = await command.ExecuteReaderAsync(http.RequestAborted);
    return await reader.ReadAsync(http.RequestAborted) ? Results.Ok(Read(reader, json)) : Results.NotFound();
});

app.MapGet("/api/v1/tasks", async (int? limit, string? cursor, HttpContext http) =>
{
    var take = limit ?? 20;
    var owner = OwnerOf(http);
    await using var command = dataSource.CreateCommand();
    string? seek = null;
    if (cursor is not null)
    {
        // SliceApi's task-list cursor for sort -createdAt: [format 1][sort 1][16 bytes id][8 bytes UTC ticks].
        Span<byte> bytes = stackalloc byte[26];
        Base64Url.DecodeFromChars(cursor, bytes);
        command.Parameters.Add(new NpgsqlParameter { Value = new DateTime(BinaryPrimitives.ReadInt64BigEndian(bytes[18..]), DateTimeKind.Utc) });
        command.Parameters.Add(new NpgsqlParameter { Value = new Guid(bytes[2..18], bigEndian: true) });
        seek = "(d.created_at, d.id) < ($1, $2)";
    }

    command.Parameters.Add(new NpgsqlParameter { Value = take + 1 });
    var limitAt = command.Parameters.Count;
    string Part(string audience) =>
        $"(SELECT d.data, d.id, d.created_at FROM mt_doc_taskitem AS d WHERE {audience}{(seek is null ? "" : " AND " + seek)} ORDER BY d.created_at DESC, d.id DESC LIMIT ${limitAt})";
    if (owner is null)
    {
        command.CommandText = $"SELECT data FROM {Part("true")} AS page ORDER BY created_at DESC, id DESC"; // an admin: every task
    }
    else
    {
        // A user, as SliceApi reads their list: the tasks they own and those assigned to them that they do not own, each
        // half in order from its own index and cut at the limit, merged.
        command.Parameters.Add(new NpgsqlParameter { Value = owner.Value });
        var me = command.Parameters.Count;
        command.CommandText = $"SELECT data FROM ({Part($"d.owner_id = ${me}")} UNION ALL {Part($"d.assignee_id = ${me} AND d.owner_id <> ${me}")}) AS page " +
                              $"ORDER BY created_at DESC, id DESC LIMIT ${limitAt}";
    }

    var items = new List<TaskDto>(take + 1);
    await using (var reader = await command.ExecuteReaderAsync(http.RequestAborted))
    {
        while (await reader.ReadAsync(http.RequestAborted))
        {
            items.Add(Read(reader, json));
        }
    }

    string? next = null;
    if (items.Count > take)
    {
        items.RemoveAt(take);
        var last = items[^1];
        var bytes = new byte[26];
        bytes[0] = 1;
        bytes[1] = 1;
        last.Id.TryWriteBytes(bytes.AsSpan(2), bigEndian: true, out _);
        BinaryPrimitives.WriteInt64BigEndian(bytes.AsSpan(18), last.CreatedAt.Ticks);
        next = Base64Url.EncodeToString(bytes);
    }

    return Results.Ok(new ListDto(items, next));
});

app.MapPost("/api/v1/tasks", async (CreateDto request, HttpContext http) =>
{
    var now = DateTime.UtcNow;
    now = now.AddTicks(-(now.Ticks % 10));
    var task = new TaskDto(Guid.CreateVersion7(), OwnerOf(http) ?? Guid.Empty, request.Title.Trim(), request.Description,
        request.Status ?? "todo", request.DueAt?.UtcDateTime, now, now);
    var document = new StoredTask(task.Id, task.OwnerId, null, task.Title, task.Description, StoredStatus(task.Status), request.DueAt?.ToUniversalTime(),
        new DateTimeOffset(now), new DateTimeOffset(now), 1);
    // The same rows as SliceApi's create, in one transaction: the task document, and its history's stream and created
    // event in Marten's event store (mt_streams, mt_events: the event's JSON holds the task as the API shows it).
    var taskJson = System.Text.Json.JsonSerializer.Serialize(new
    {
        task = new { task.Id, task.Title, task.Description, Status = StoredStatus(task.Status), DueAt = document.DueAt, task.OwnerId, AssigneeId = (Guid?)null, CreatedAt = document.CreatedAt, UpdatedAt = document.UpdatedAt },
        changes = Array.Empty<object>(),
        type = "Created",
    }, json);
    await using var batch = dataSource.CreateBatch();
    var insertTask = new NpgsqlBatchCommand(
        "INSERT INTO mt_doc_taskitem (id, data, mt_version, mt_dotnet_type, owner_id, assignee_id, title, description, due_sort_key, created_at) " +
        "VALUES ($1, $2, 1, 'SliceApi.Features.Tasks.TaskItem', $3, NULL, $4, $5, $6, $7)");
    insertTask.Parameters.Add(new NpgsqlParameter { Value = task.Id });
    insertTask.Parameters.Add(new NpgsqlParameter { Value = System.Text.Json.JsonSerializer.Serialize(document, json), NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Jsonb });
    insertTask.Parameters.Add(new NpgsqlParameter { Value = task.OwnerId });
    insertTask.Parameters.Add(new NpgsqlParameter { Value = task.Title });
    insertTask.Parameters.Add(new NpgsqlParameter { Value = (object?)task.Description ?? DBNull.Value });
    insertTask.Parameters.Add(new NpgsqlParameter { Value = document.DueAt ?? DateTimeOffset.MaxValue }); // the sort key: infinity without a deadline
    insertTask.Parameters.Add(new NpgsqlParameter { Value = task.CreatedAt });
    var insertStream = new NpgsqlBatchCommand("INSERT INTO mt_streams (id, type, version) VALUES ($1, 'task_item', 1)");
    insertStream.Parameters.Add(new NpgsqlParameter { Value = task.Id });
    var insertEvent = new NpgsqlBatchCommand(
        "INSERT INTO mt_events (seq_id, id, stream_id, version, data, type, timestamp, mt_dotnet_type, correlation_id, headers, user_name) " +
        "VALUES (nextval('mt_events_sequence'), $1, $2, 1, $3, 'task_created', now(), 'SliceApi.Features.Tasks.TaskCreated, SliceApi', $4, $5, $6)");
    insertEvent.Parameters.Add(new NpgsqlParameter { Value = Guid.CreateVersion7() });
    insertEvent.Parameters.Add(new NpgsqlParameter { Value = task.Id });
    insertEvent.Parameters.Add(new NpgsqlParameter { Value = taskJson, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Jsonb });
    insertEvent.Parameters.Add(new NpgsqlParameter { Value = System.Diagnostics.Activity.Current?.TraceId.ToHexString() ?? Guid.NewGuid().ToString("N") });
    insertEvent.Parameters.Add(new NpgsqlParameter { Value = "{\"via\":\"AccessToken\"}", NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Jsonb });
    insertEvent.Parameters.Add(new NpgsqlParameter { Value = task.OwnerId.ToString() });
    batch.BatchCommands.Add(insertTask);
    batch.BatchCommands.Add(insertStream);
    batch.BatchCommands.Add(insertEvent);
    await batch.ExecuteNonQueryAsync(http.RequestAborted); // one round trip, one implicit transaction
    return Results.Created($"/api/v1/tasks/{task.Id}", task);
});

// The changes feed (GET /api/v1/changes as an admin sees it): the same three reads as SliceApi's, in the same order: the
// retention mark, the daemon's high-water mark, then one page of events after the cursor and below that mark, each
// written with its task and actor as SliceApi writes a change.
app.MapGet("/api/v1/changes", async (long? after, int? limit, HttpContext http) =>
{
    var take = limit ?? 100;
    var ct = http.RequestAborted;
    await using var pruned = dataSource.CreateCommand("SELECT data FROM mt_doc_changeretentionmark WHERE id = 'tasks'");
    long mark = 0;
    if (await pruned.ExecuteScalarAsync(ct) is string markJson)
    {
        using var document = JsonDocument.Parse(markJson);
        mark = document.RootElement.GetProperty("prunedThrough").GetInt64();
    }

    await using var highWater = dataSource.CreateCommand("SELECT coalesce(max(last_seq_id), 0) FROM mt_event_progression WHERE name = 'HighWaterMark'");
    var ceiling = (long)(await highWater.ExecuteScalarAsync(ct))!;
    var start = after ?? mark;
    if (start < mark || start > ceiling)
    {
        return Results.BadRequest();
    }

    await using var page = dataSource.CreateCommand(
        "SELECT seq_id, id, stream_id, version, data, type, timestamp, correlation_id, headers, user_name FROM mt_events " +
        "WHERE seq_id > $1 AND seq_id <= $2 ORDER BY seq_id LIMIT $3");
    page.Parameters.Add(new NpgsqlParameter { Value = start });
    page.Parameters.Add(new NpgsqlParameter { Value = ceiling });
    page.Parameters.Add(new NpgsqlParameter { Value = take + 1 });
    var items = new List<ChangeDto>(take + 1);
    await using (var reader = await page.ExecuteReaderAsync(ct))
    {
        while (await reader.ReadAsync(ct))
        {
            var data = JsonSerializer.Deserialize<StoredEvent>(reader.GetString(4), json)!;
            var headers = reader.IsDBNull(8) ? null : JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(reader.GetString(8), json);
            var via = headers?.GetValueOrDefault("via").ToString() switch { "ApiKey" => "api_key", "OAuthApp" => "oauth_app", "AccessToken" => "access_token", _ => "system" };
            var sequence = reader.GetInt64(0);
            var type = reader.GetString(5)["task_".Length..];
            var occurredAt = reader.GetFieldValue<DateTimeOffset>(6);
            var t = data.Task;
            var task = new TaskDto(t.Id, t.OwnerId, t.Title, t.Description, WireStatus(t.Status), t.DueAt?.UtcDateTime, t.CreatedAt.UtcDateTime, t.UpdatedAt.UtcDateTime);
            items.Add(new ChangeDto(sequence.ToString(System.Globalization.CultureInfo.InvariantCulture), reader.GetGuid(2), type, false, occurredAt,
                new EventDto(reader.GetGuid(1), reader.GetGuid(2), reader.GetInt64(3), type, occurredAt,
                    new ActorDto(Guid.TryParse(reader.IsDBNull(9) ? null : reader.GetString(9), out var user) ? user : null, via, null, null),
                    reader.IsDBNull(7) ? null : reader.GetString(7), data.Changes, task)));
        }
    }

    var hasMore = items.Count > take;
    if (hasMore)
    {
        items.RemoveAt(take);
    }

    return Results.Ok(new ChangesDto(items, hasMore ? items[^1].Cursor : ceiling.ToString(System.Globalization.CultureInfo.InvariantCulture), hasMore));
});

app.MapGet("/health/ready", () => Results.Ok());
app.Run();

static Guid? OwnerOf(HttpContext http) =>
    Guid.TryParse(http.Request.Headers["X-Owner-Id"], out var owner) ? owner : null;

static TaskDto Read(NpgsqlDataReader r, System.Text.Json.JsonSerializerOptions json)
{
    var t = System.Text.Json.JsonSerializer.Deserialize<StoredTask>(r.GetString(0), json)!;
    return new(t.Id, t.OwnerId, t.Title, t.Description, WireStatus(t.Status), t.DueAt?.UtcDateTime, t.CreatedAt.UtcDateTime, t.UpdatedAt.UtcDateTime);
}

// Marten stores enum names (InProgress); the API writes snake_case (in_progress).
static string WireStatus(string stored) => stored switch { "InProgress" => "in_progress", "Done" => "done", _ => "todo" };

static string StoredStatus(string wire) => wire switch { "in_progress" => "InProgress", "done" => "Done", _ => "Todo" };

/// <summary>The task document as Marten stores it (camelCase members; its dueSortKey, read by nobody, is left out).</summary>
internal sealed record StoredTask(Guid Id, Guid OwnerId, Guid? AssigneeId, string Title, string? Description, string Status, DateTimeOffset? DueAt,
    DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, long Version);

internal sealed record TaskDto(Guid Id, Guid OwnerId, string Title, string? Description, string Status, DateTime? DueAt, DateTime CreatedAt, DateTime UpdatedAt);

internal sealed record ListDto(List<TaskDto> Items, string? NextCursor);

/// <summary>A task event as Marten stores it: the task after the change and the changed members.</summary>
internal sealed record StoredEvent(StoredTask Task, List<JsonElement> Changes);

internal sealed record ActorDto(Guid? UserId, string Via, Guid? ApiKeyId, string? ClientId);

internal sealed record EventDto(Guid Id, Guid TaskId, long Version, string Type, DateTimeOffset OccurredAt, ActorDto Actor, string? TraceId, List<JsonElement> Changes, TaskDto Task);

internal sealed record ChangeDto(string Cursor, Guid TaskId, string Type, bool Removed, DateTimeOffset OccurredAt, EventDto? Event);

internal sealed record ChangesDto(List<ChangeDto> Items, string NextCursor, bool HasMore);

internal sealed record CreateDto(string Title, string? Description, DateTimeOffset? DueAt, string? Status);
