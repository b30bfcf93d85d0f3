using System.Text.Json;
using FastEndpoints;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Http.Json;
using Marten;
using Microsoft.Extensions.Options;
using SliceApi.Infrastructure.Data;
using SliceApi.Infrastructure.Endpoints;
using SliceApi.Infrastructure.Security;

namespace SliceApi.Features.Tasks;

/// <summary><c>PATCH /api/v1/tasks/{id}</c>: the route and the merge-patch document as sent.</summary>
public sealed class PatchTaskRequest
{
    /// <summary>The task's id.</summary>
    public Guid Id { get; set; }

    /// <summary>The RFC 7396 merge patch: an object with some of title, description, dueAt, status, assigneeId.</summary>
    [FromBody]
    public JsonElement Patch { get; set; }
}

/// <summary>
/// The body of <c>PATCH /api/v1/tasks/{id}</c> as the OpenAPI document describes it (the endpoint reads the JSON itself):
/// an RFC 7396 merge patch in which every member is optional; <c>null</c> clears description, dueAt or assigneeId.
/// </summary>
public sealed class TaskMergePatch
{
    /// <summary>A new title, 1 to 200 characters after trimming (it cannot be cleared).</summary>
    [System.ComponentModel.DataAnnotations.StringLength(200, MinimumLength = 1)]
    public string Title { get; set; } = "";

    /// <summary>A new description, up to 4000 characters, or null to clear it.</summary>
    [System.ComponentModel.DataAnnotations.MaxLength(4000)]
    public string? Description { get; set; }

    /// <summary>A new deadline (RFC 3339 with offset; stored in UTC), or null to clear it.</summary>
    public DateTimeOffset? DueAt { get; set; }

    /// <summary>A new status.</summary>
    public TaskItemStatus Status { get; set; }

    /// <summary>The user to assign, or null to unassign.</summary>
    public Guid? AssigneeId { get; set; }
}

/// <summary>
/// <c>PATCH /api/v1/tasks/{id}</c> with <c>Content-Type: application/merge-patch+json</c> (RFC 7396): members present
/// replace the task's fields, <c>null</c> clears an optional one (description, dueAt, assigneeId), absent ones stay.
/// The merged task is validated like PUT; other content types get 415. Owner or admin; If-Match as for PUT.
/// </summary>
internal sealed class PatchTask(IDocumentSession session, IDocumentStore documents, IOptions<JsonOptions> json, TimeProvider clock)
    : Endpoint<PatchTaskRequest, Results<Ok<TaskResponse>, ValidationProblem, ProblemHttpResult>>
{
    /// <summary>The media type of RFC 7396.</summary>
    public const string MergePatch = "application/merge-patch+json";

    private static readonly HashSet<string> Members = ["title", "description", "dueAt", "status", "assigneeId"];
    private static readonly UpdateTaskValidator Validator = new();

    public override void Configure()
    {
        Patch("tasks/{id}");
        Group<TasksGroup>();
        Definition.ChangesOneTask();
        Description(b => b.Accepts<TaskMergePatch>(MergePatch).ProducesValidationProblem());
        Summary(s =>
        {
            s.Summary = "Change some of a task's fields (JSON merge patch)";
            s.ExampleRequest = new Dictionary<string, object?> { ["status"] = "done", ["description"] = null };
        });
    }

    public override async Task<Results<Ok<TaskResponse>, ValidationProblem, ProblemHttpResult>> ExecuteAsync(PatchTaskRequest req, CancellationToken ct)
    {
        var id = req.Id;
        var patch = req.Patch;
        var http = HttpContext;
        if (patch.ValueKind != JsonValueKind.Object)
        {
            return Invalid("", "A merge patch for a task must be a JSON object.");
        }

        var unknown = patch.EnumerateObject().Select(p => p.Name).FirstOrDefault(n => !Members.Contains(n));
        if (unknown is not null)
        {
            return Invalid(unknown, $"'{unknown}' is not a field of a task; patchable fields: {string.Join(", ", Members)}.");
        }

        var (task, refused) = await session.LoadForChangeAsync(id, http, ownerOnly: true, ct);
        if (task is null)
        {
            return refused!;
        }

        // Merge onto the current representation, then read it back through the API's own JSON contract.
        var merged = new Dictionary<string, object?>
        {
            ["title"] = task.Title, ["description"] = task.Description, ["dueAt"] = task.DueAt,
            ["status"] = task.Status, ["assigneeId"] = task.AssigneeId,
        };
        foreach (var member in patch.EnumerateObject())
        {
            merged[member.Name] = member.Value;
        }

        UpdateTaskRequest? request;
        try
        {
            request = JsonSerializer.Deserialize<UpdateTaskRequest>(JsonSerializer.SerializeToUtf8Bytes(merged, json.Value.SerializerOptions), json.Value.SerializerOptions);
        }
        catch (JsonException e)
        {
            var member = e.Path?.TrimStart('$', '.') ?? string.Empty;
            return Invalid(member, e.InnerException is FormatException format ? format.Message : "The value has the wrong JSON type or is not one of the allowed values.");
        }

        if (patch.TryGetProperty("status", out var status) && status.ValueKind == JsonValueKind.Null)
        {
            return Invalid("status", "'status' cannot be cleared; send todo, in_progress or done.");
        }

        var validation = await Validator.ValidateAsync(request!, ct);
        if (!validation.IsValid)
        {
            return TypedResults.ValidationProblem(
                validation.Errors.GroupBy(e => JsonNamingPolicy.CamelCase.ConvertName(e.PropertyName))
                    .ToDictionary(g => g.Key, g => g.Select(e => e.ErrorMessage).ToArray()),
                title: "The request is invalid.");
        }

        if (await TaskItemAccess.CheckAssigneeAsync(documents, request!.AssigneeId, ct) is { } unknownAssignee)
        {
            return unknownAssignee;
        }

        var before = TaskResponse.From(task);
        request.ApplyTo(task);
        task.UpdatedAt = clock.GetStoredUtcNow();
        TaskHistory.Changed(session, User, before, task);
        await TaskETag.SaveAsync(session, task, http, ct);
        return TypedResults.Ok(TaskResponse.From(task));
    }

    private static ValidationProblem Invalid(string member, string message) =>
        TypedResults.ValidationProblem(new Dictionary<string, string[]> { [member] = [message] }, title: "The request is invalid.");
}
