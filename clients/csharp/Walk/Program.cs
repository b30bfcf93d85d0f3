// The README scenario through the C# client that NSwag generates from docs/openapi/v1.json (clients/csharp/SliceApi.Client):
// register, log in, refresh (the retired token refused), a validation problem with its errors, five creates listed two at
// a time following nextCursor to the end, a get and its 304, a merge patch, a stale If-Match (412), an idempotent create
// and its replay. Prints a line per check and ends with "csharp client walk: N passed, N failed"; exits 1 when any failed.
using System.Globalization;
using SliceApi.Client;

var baseUrl = args.Length > 0 ? args[0] : "http://127.0.0.1:5080";
var headers = new RequestHeaders { InnerHandler = new SocketsHttpHandler() };
using var http = new HttpClient(headers) { BaseAddress = new Uri(baseUrl.TrimEnd('/') + "/") };
var api = new SliceApiClient(http);
var (passed, failed) = (0, 0);

void Check<T>(string name, T expected, T actual)
{
    if (EqualityComparer<T>.Default.Equals(expected, actual))
    {
        passed++;
        Console.WriteLine($"ok   {name} ({actual})");
    }
    else
    {
        failed++;
        Console.WriteLine($"FAIL {name}: expected {expected}, got {actual}");
    }
}

// A response header's value; names compare ignoring case (RFC 9110 section 5.1), as a proxy may send them lower-case.
static string Header(ApiResponse response, string name) =>
    response.Headers.FirstOrDefault(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase)).Value?.Single()
    ?? throw new KeyNotFoundException($"The response has no {name} header.");

// The status of a call the client reports as an exception (every status the document does not list as success).
static async Task<int> StatusOfAsync(Func<Task> call)
{
    try
    {
        await call();
        return 0;
    }
    catch (ApiException e)
    {
        return e.StatusCode;
    }
}

try
{
    var email = $"cs-{DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()}-{Random.Shared.Next(1_000_000)}@example.com";
    const string password = "correct horse battery staple";

    var registered = await api.RegisterUserAsync(new RegisterUserRequest { Email = email, Password = password, DisplayName = "CSharp" });
    Check("register", 201, registered.StatusCode);
    var login = await api.LoginAsync(new LoginRequest { Email = email, Password = password });
    Check("login", 200, login.StatusCode);
    var firstRefresh = login.Result.RefreshToken;
    var refreshed = await api.RefreshTokensAsync(new RefreshTokensRequest { RefreshToken = firstRefresh });
    Check("refresh", 200, refreshed.StatusCode);
    headers.AccessToken = refreshed.Result.AccessToken;
    Check("refresh again with the retired token", 401,
        await StatusOfAsync(() => api.RefreshTokensAsync(new RefreshTokensRequest { RefreshToken = firstRefresh })));

    // A validation error, read as a typed problem with its errors.
    try
    {
        await api.CreateTaskAsync(new CreateTaskRequest { Title = "" });
        Check("create with an empty title", 400, 201);
    }
    catch (ApiException<HttpValidationProblemDetails> e)
    {
        Check("create with an empty title", 400, e.StatusCode);
        Check("its problem names the field", true, e.Result.Errors.ContainsKey("title"));
    }

    // Five tasks, listed two at a time, following nextCursor to the end.
    var tag = $"cs{DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()}";
    var created = new List<Guid>();
    for (var i = 1; i <= 5; i++)
    {
        var task = await api.CreateTaskAsync(new CreateTaskRequest { Title = $"{tag} task {i}", DueAt = DateTimeOffset.Parse("2026-12-24T17:00:00Z", CultureInfo.InvariantCulture) });
        Check($"create task {i}", 201, task.StatusCode);
        created.Add(task.Result.Id);
    }

    var seen = new List<Guid>();
    string? cursor = null;
    var pages = 0;
    do
    {
        var page = await api.ListTasksAsync(limit: 2, cursor: cursor, q: tag, sort: Sort.Title);
        Check($"list page {++pages}", 200, page.StatusCode);
        seen.AddRange(page.Result.Items.Select(t => t.Id));
        cursor = page.Result.NextCursor;
    }
    while (cursor is not null && pages < 10);
    Check("pages followed to the end", 3, pages);
    Check("every task listed once, in title order", string.Join(",", created), string.Join(",", seen));

    // Conditional requests: If-None-Match gives 304; a stale If-Match gives 412.
    var id = created[0];
    var got = await api.GetTaskAsync(id);
    Check("get", 200, got.StatusCode);
    var etag = Header(got, "ETag");
    headers.Next["If-None-Match"] = etag;
    Check("get with the current ETag", 304, await StatusOfAsync(() => api.GetTaskAsync(id)));
    headers.Next["If-Match"] = etag;
    var patched = await api.PatchTaskAsync(id, new TaskMergePatch { Description = "Patched by the C# client", Status = TaskMergePatchStatus.In_progress });
    Check("merge patch", 200, patched.StatusCode);
    Check("patched status", TaskResponseStatus.In_progress, patched.Result.Status);
    headers.Next["If-Match"] = etag;
    Check("put with the old ETag", 412, await StatusOfAsync(() => api.UpdateTaskAsync(id, new UpdateTaskRequest { Title = "stale" })));

    // An idempotent create and its replay.
    var key = $"\"cs-{tag}\"";
    var once = await api.CreateTaskAsync(new CreateTaskRequest { Title = $"{tag} once" }, idempotency_Key: key);
    Check("create with an Idempotency-Key", 201, once.StatusCode);
    var again = await api.CreateTaskAsync(new CreateTaskRequest { Title = $"{tag} once" }, idempotency_Key: key);
    Check("the retry replays the first response", $"201 true {once.Result.Id}",
        $"{again.StatusCode} {Header(again, "Idempotent-Replayed")} {again.Result.Id}");

    // Activity: the patched task's history, then the changes feed followed by cursor from the start until it holds every
    // change of this walk (the feed shows a change once the async daemon's high-water mark passes it, within a second).
    var history = await api.GetTaskHistoryAsync(id);
    Check("history", 200, history.StatusCode);
    Check("history: created, then the patch's updated and status_changed, oldest first",
        $"{TaskEventResponseType.Created},{TaskEventResponseType.Updated},{TaskEventResponseType.Status_changed}",
        string.Join(",", history.Result.Items.Select(e => e.Type)));
    var statusChange = history.Result.Items.ElementAt(2).Changes.Single();
    Check("history: the patch's status change, old and new", "status todo in_progress", $"{statusChange.Field} {statusChange.OldValue} {statusChange.NewValue}");
    var mine = created.Append(once.Result.Id).ToHashSet();
    var expected = created.Count + 3; // each task created, the patch's two events, the idempotent create once
    var followed = new List<string>();
    string? after = null;
    for (var round = 0; round < 100 && followed.Count < expected; round++)
    {
        var page = await api.ListChangesAsync(after, limit: 2);
        followed.AddRange(page.Result.Items.Where(c => mine.Contains(c.TaskId)).Select(c => $"{c.Type}:{c.TaskId}"));
        after = page.Result.NextCursor;
        if (!page.Result.HasMore)
        {
            await Task.Delay(100);
        }
    }

    Check("changes feed followed by cursor: every change of the walk once", expected, followed.Count);
    Check("changes feed: no change twice", followed.Count, followed.Distinct().Count());
}
catch (Exception e) when (e is ApiException or HttpRequestException or NullReferenceException or InvalidOperationException or KeyNotFoundException)
{
    failed++;
    Console.WriteLine($"FAIL the walk stopped: {e.Message}");
}

Console.WriteLine($"csharp client walk: {passed} passed, {failed} failed");
return failed == 0 ? 0 : 1;

/// <summary>Adds the access token to every request, and <see cref="Next"/>'s headers (If-Match, If-None-Match) to the next one only.</summary>
internal sealed class RequestHeaders : DelegatingHandler
{
    public string? AccessToken { get; set; }

    public Dictionary<string, string> Next { get; } = [];

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (AccessToken is not null)
        {
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", AccessToken);
        }

        foreach (var (name, value) in Next)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        Next.Clear();
        return base.SendAsync(request, cancellationToken);
    }
}
