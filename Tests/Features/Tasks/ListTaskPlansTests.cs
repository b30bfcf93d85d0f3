using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Marten;
using Marten.Services;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using SliceApi.Features.Auth;
using Npgsql;
using SliceApi.Features.Tasks;
using SliceApi.Infrastructure.Security;
using SliceApi.Tests.Support;

namespace SliceApi.Tests.Features.Tasks;

/// <summary>
/// Every shape of the task-list query, sent through HTTP against 1,000,000 tasks: the SQL the endpoint really runs
/// is captured and EXPLAINed with its parameters, and its plan must reach the tasks table through an index.
/// </summary>
[Trait("Category", "Slow")] // seeds a million tasks: left out of the edit-test loop (--filter "Category!=Slow")
public sealed class ListTaskPlansTests(MillionTasksApi api, ITestOutputHelper output) : IClassFixture<MillionTasksApi>
{
    public static readonly TheoryData<string, string, string[]> Queries = new()
    {
        // caller, query string, indexes of which at least one must appear in the plan (a name ending in _ is a prefix).
        // A user's tasks come from an owner index and an assignee index (a BitmapOr of the two).
        { AppRoles.Admin, "", ["ix_taskitem_created_at_id", "ix_taskitem_created_at"] },
        { AppRoles.Admin, "sort=createdAt", ["ix_taskitem_created_at_id", "ix_taskitem_created_at"] },
        { AppRoles.Admin, "sort=dueAt", ["ix_taskitem_due_sort_id"] },
        { AppRoles.Admin, "sort=-dueAt", ["ix_taskitem_due_sort_id"] },
        { AppRoles.Admin, "sort=title", ["ix_taskitem_title_id"] },
        { AppRoles.Admin, "sort=-title", ["ix_taskitem_title_id"] },
        { AppRoles.Admin, "status=done", ["ix_taskitem_created_at_id", "ix_taskitem_created_at"] },
        { AppRoles.Admin, "status=todo&status=done&sort=dueAt", ["ix_taskitem_due_sort_id"] },
        { AppRoles.Admin, "dueAfter=2026-03-01T00:00:00Z&dueBefore=2026-03-02T00:00:00Z&sort=dueAt", ["ix_taskitem_due_sort_id"] },
        { AppRoles.Admin, "dueBefore=2026-01-03T00:00:00Z", ["ix_taskitem_due_sort_id", "ix_taskitem_created_at_id", "ix_taskitem_created_at"] },
        { AppRoles.Admin, "assigneeId={seedUser}", ["ix_taskitem_assignee_id_created_at_id"] },
        { AppRoles.Admin, "q=%23424242", ["ix_taskitem_title_trgm"] },
        { AppRoles.Admin, "q=item%20777776&sort=title", ["ix_taskitem_description_trgm"] },
        { AppRoles.Admin, "q=report", ["ix_taskitem_created_at_id", "ix_taskitem_created_at", "ix_taskitem_title_trgm"] },
        { AppRoles.User, "", ["ix_taskitem_owner_id_", "ix_taskitem_owner_id"] },
        { AppRoles.User, "sort=dueAt", ["ix_taskitem_owner_id_", "ix_taskitem_owner_id"] },
        { AppRoles.User, "sort=-title&status=in_progress", ["ix_taskitem_owner_id_", "ix_taskitem_owner_id"] },
        { AppRoles.User, "q=budget&sort=dueAt", ["ix_taskitem_owner_id_", "ix_taskitem_owner_id"] },
        { AppRoles.User, "dueAfter=2026-03-01T00:00:00Z", ["ix_taskitem_owner_id_", "ix_taskitem_owner_id"] },
        { AppRoles.Guest, "", ["ix_taskitem_assignee_id_created_at_id"] },
        { AppRoles.Guest, "sort=title", ["ix_taskitem_assignee_id_title_id"] },
    };

    [Theory]
    [MemberData(nameof(Queries))]
    public async Task Each_list_query_and_its_next_page_use_an_index(string role, string query, string[] expectedIndexes)
    {
        var client = api.ClientFor(api.Callers[role]);
        var url = $"/api/v1/tasks?limit=10&{query.Replace("{seedUser}", api.Callers[AppRoles.User].Id.ToString(), StringComparison.Ordinal)}";

        var first = await api.Plans.CaptureAsync(() => client.GetAsync(url).ShouldReturnAsync<ListTasksResponse>());
        first.Result.Items.ShouldNotBeEmpty();
        var plans = new List<(string, JsonElement)> { ("first page", first.Plan) };
        if (first.Result.NextCursor is { } cursor)
        {
            var next = await api.Plans.CaptureAsync(() => client.GetAsync($"{url}&cursor={cursor}").ShouldReturnAsync<ListTasksResponse>());
            plans.Add(("next page", next.Plan));
        }

        foreach (var (label, plan) in plans)
        {
            var nodes = PlanNodes(plan).ToList();
            output.WriteLine($"{role} ?{query} ({label}): {string.Join(" > ", nodes.Select(n => n.Index is null ? n.Type : $"{n.Type} on {n.Index}"))}");
            nodes.ShouldNotContain(n => n.Type == "Seq Scan", $"{role} ?{query} ({label}) reads tasks sequentially:\n{plan}");
            nodes.Select(n => n.Index).ShouldContain(i => i != null && expectedIndexes.Any(e => e.EndsWith('_') ? i.StartsWith(e, StringComparison.Ordinal) : i == e), $"{role} ?{query} ({label}):\n{plan}");
        }
    }

    private static IEnumerable<(string Type, string? Index)> PlanNodes(JsonElement node)
    {
        if (node.ValueKind == JsonValueKind.Array)
        {
            node = node[0].GetProperty("Plan");
        }

        yield return (node.GetProperty("Node Type").GetString()!, node.TryGetProperty("Index Name", out var index) ? index.GetString() : null);
        if (node.TryGetProperty("Plans", out var children))
        {
            foreach (var child in children.EnumerateArray().SelectMany(PlanNodes))
            {
                yield return child;
            }
        }
    }
}

/// <summary>
/// The app on a database seeded with 1,000 users and 1,000,000 tasks (statuses, deadlines over 500 days, a quarter
/// without one, a third assigned, half with a description), the task table's indexes rebuilt from Marten's own
/// definitions after the load.
/// </summary>
public sealed class MillionTasksApi : AppFixture
{
    public const int TaskCount = 1_000_000;

    /// <summary>Captures the plan of the next task query this app runs.</summary>
    public PlanCapture Plans { get; } = new();

    /// <summary>A caller per role, each a seeded user with many tasks owned or assigned.</summary>
    public Dictionary<string, TestUser> Callers { get; } = [];

    public override async ValueTask InitializeAsync()
    {
        await base.InitializeAsync();
        Plans.ConnectionString = ConnectionString;
        var clock = Stopwatch.StartNew();
        // Status names as Marten stores them in the document.
        var serializer = Services.GetRequiredService<IDocumentStore>().Options.Serializer();
        var statuses = string.Join(",", Enum.GetValues<TaskItemStatus>().Select(v => serializer.ToJson(v).Trim('"')).Select(v => $"'{v}'"));
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        var indexes = new List<string>();
        await using (var read = new NpgsqlCommand("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'mt_doc_taskitem' AND indexname <> 'pkey_mt_doc_taskitem_id'", connection))
        await using (var reader = await read.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                indexes.Add(reader.GetString(1));
            }
        }

        indexes.Count.ShouldBeGreaterThanOrEqualTo(7);
        var seed = $"""
            SET maintenance_work_mem = '256MB';
            -- The owners come from mt_doc_user by construction, so the foreign key's per-row check is skipped while loading.
            SET session_replication_role = replica;
            -- A throwaway database: the million rows and their indexes skip the write-ahead log (Marten's schema check ignores persistence).
            ALTER TABLE mt_doc_taskitem SET UNLOGGED;
            {string.Join("\n", indexes.Select(d => $"DROP INDEX {d.Split(' ')[2]};"))}
            INSERT INTO mt_doc_user (id, data, mt_dotnet_type, email, created_at)
            SELECT s.id,
                   jsonb_build_object('id', s.id, 'email', s.email, 'displayName', 'Seed ' || s.i, 'passwordHash', 'x',
                                      'role', CASE WHEN s.i <= 10 THEN 'guest' ELSE 'user' END, 'createdAt', s.created_at, 'isActive', true),
                   'SliceApi.Features.Users.User', s.email, s.created_at
            FROM (SELECT i, gen_random_uuid() AS id, 'seed' || i || '@example.com' AS email,
                         timestamptz '2025-01-01' + i * interval '1 minute' AS created_at
                  FROM generate_series(1, 1000) i) s;
            INSERT INTO mt_doc_taskitem (id, data, mt_version, mt_dotnet_type, owner_id, assignee_id, title, description, due_sort_key, created_at)
            SELECT t.id,
                   jsonb_build_object('id', t.id, 'ownerId', t.owner_id, 'assigneeId', t.assignee_id, 'title', t.title,
                                      'description', t.description, 'status', t.status, 'dueAt', t.due_at,
                                      'createdAt', t.created_at, 'updatedAt', t.created_at),
                   1, 'SliceApi.Features.Tasks.TaskItem', t.owner_id, t.assignee_id, t.title, t.description,
                   COALESCE(t.due_at, 'infinity'), t.created_at
            FROM (SELECT gen_random_uuid() AS id,
                         u.ids[1 + i % 1000] AS owner_id,
                         CASE WHEN i % 3 = 0 THEN u.ids[1 + (i / 3) % 1000] END AS assignee_id,
                         (ARRAY['Write','Review','Fix','Plan','Ship','Test','Draft','Call'])[1 + i % 8] || ' '
                             || (ARRAY['report','invoice','build','release','budget','roadmap','survey','contract'])[1 + (i / 8) % 8] || ' #' || i AS title,
                         CASE WHEN i % 2 = 0 THEN 'Notes on item ' || i END AS description,
                         (ARRAY[{statuses}])[1 + i % 3] AS status,
                         CASE WHEN i % 4 <> 0 THEN timestamptz '2026-01-01' + (i % 500) * interval '1 day' + (i % 1440) * interval '1 minute' END AS due_at,
                         timestamptz '2025-01-01' + i * interval '30 seconds' AS created_at
                  FROM generate_series(1, {TaskCount}) i, (SELECT array_agg(id ORDER BY email) AS ids FROM mt_doc_user WHERE email LIKE 'seed%') u) t;
            """;
        await using (var command = new NpgsqlCommand(seed, connection) { CommandTimeout = 600 })
        {
            await command.ExecuteNonQueryAsync();
        }

        // The indexes are rebuilt two at a time, one per core: the trigram ones take most of the seeding time.
        await Task.WhenAll(Enumerable.Range(0, 2).Select(async lane =>
        {
            await using var own = new NpgsqlConnection(ConnectionString);
            await own.OpenAsync();
            var ddl = string.Join("\n", indexes.Where((_, i) => i % 2 == lane).Select(d => d + ";"));
            await using var build = new NpgsqlCommand($"SET maintenance_work_mem = '1GB';\n{ddl}", own) { CommandTimeout = 600 };
            await build.ExecuteNonQueryAsync();
        }));
        await using (var analyze = new NpgsqlCommand("ANALYZE mt_doc_user; ANALYZE mt_doc_taskitem;", connection) { CommandTimeout = 600 })
        {
            await analyze.ExecuteNonQueryAsync();
        }

        var jwt = Services.GetRequiredService<IOptions<JwtOptions>>().Value;
        foreach (var (role, email) in new[] { (AppRoles.Admin, "seed500@example.com"), (AppRoles.User, "seed501@example.com"), (AppRoles.Guest, "seed5@example.com") })
        {
            await using var find = new NpgsqlCommand("UPDATE mt_doc_user SET data = jsonb_set(data, '{role}', to_jsonb(@role::text)) WHERE email = @email RETURNING id", connection);
            find.Parameters.AddWithValue("role", role);
            find.Parameters.AddWithValue("email", email);
            var id = (Guid)(await find.ExecuteScalarAsync())!;
            Callers[role] = new TestUser(id, email, Password, role, AccessTokenIssuer.Issue(jwt, TimeProvider.System, id, email, role).AccessToken);
        }

        TestContext.Current.SendDiagnosticMessage($"Seeded {TaskCount:N0} tasks in {clock.Elapsed.TotalSeconds:F1} s");
    }

    protected override void ConfigureHost(IWebHostBuilder builder)
    {
        builder.ConfigureServices(services => services.ConfigureMarten(options => options.Logger(Plans)));
    }
}

/// <summary>
/// A Marten logger that, while armed, EXPLAINs (FORMAT JSON) each list query on the task documents with its own
/// parameters, on a connection of its own, just before Marten runs it.
/// </summary>
public sealed class PlanCapture : IMartenLogger, IMartenSessionLogger
{
    private readonly ConcurrentQueue<JsonElement> plans = new();
    private volatile bool armed;

    /// <summary>The database the plans are read from (the fixture's).</summary>
    public string ConnectionString { get; set; } = "";

    /// <summary>
    /// Runs <paramref name="request"/> and returns its result with the plan of the one task query it ran.
    /// Not reentrant: the tests of one class run one at a time.
    /// </summary>
    public async Task<(T Result, JsonElement Plan)> CaptureAsync<T>(Func<Task<T>> request)
    {
        plans.Clear();
        armed = true;
        try
        {
            var result = await request();
            return (result, plans.ShouldHaveSingleItem());
        }
        finally
        {
            armed = false;
        }
    }

    public IMartenSessionLogger StartSession(IQuerySession session) => this;

    public void SchemaChange(string sql)
    {
    }

    public void OnBeforeExecute(NpgsqlCommand command) => Explain(command.CommandText, command.Parameters);

    public void OnBeforeExecute(NpgsqlBatch batch)
    {
        foreach (NpgsqlBatchCommand command in batch.BatchCommands)
        {
            Explain(command.CommandText, command.Parameters);
        }
    }

    private void Explain(string sql, NpgsqlParameterCollection parameters)
    {
        if (!armed || !sql.Contains("mt_doc_taskitem", StringComparison.OrdinalIgnoreCase) || !sql.TrimStart().StartsWith("select", StringComparison.OrdinalIgnoreCase)
            || sql.Contains("where d.id = ", StringComparison.OrdinalIgnoreCase))
        {
            return;
        }

        // On a connection of its own: Marten's is about to run the query.
        using var own = new NpgsqlConnection(ConnectionString);
        own.Open();
        using var explain = own.CreateCommand();
        explain.CommandText = "EXPLAIN (FORMAT JSON) " + sql;
        foreach (NpgsqlParameter parameter in parameters)
        {
            explain.Parameters.Add(parameter.Clone());
        }

        var json = (string)explain.ExecuteScalar()!;
        plans.Enqueue(JsonDocument.Parse(json).RootElement.Clone());
    }

    public void LogSuccess(NpgsqlCommand command)
    {
    }

    public void LogFailure(NpgsqlCommand command, Exception ex)
    {
    }

    public void LogSuccess(NpgsqlBatch batch)
    {
    }

    public void LogFailure(NpgsqlBatch batch, Exception ex)
    {
    }

    public void LogFailure(Exception ex, string message)
    {
    }

    public void RecordSavedChanges(IDocumentSession session, IChangeSet commit)
    {
    }
}
