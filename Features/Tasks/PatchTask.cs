using System.Security.Claims;
using System.Text.Json;
using FluentValidation;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Http.Json;

using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using SliceApi.Infrastructure.Data;
using SliceApi.Infrastructure.Endpoints;
using SliceApi.Infrastructure.OpenApi;
using SliceApi.Infrastructure.Security;

namespace SliceApi.Features.Tasks;

/// <summary>
/// <c>PATCH /api/v1/tasks/{id}</c> with <c>Content-Type: application/merge-patch+json</c> (RFC 7396): members present
/// replace the task's fields, <c>null</c> clears an optional one (description, dueAt, assigneeId), absent ones stay.
/// The merged task is validated like PUT; other content types get 415. Owner or admin; If-Match as for PUT.
/// </summary>
internal sealed class PatchTaskEndpoint : IEndpoint
{
    /// <summary>The media type of RFC 7396.</summary>
    public const string MergePatch = "application/merge-patch+json";

    private static readonly HashSet<string> Members = ["title", "description", "dueAt", "status", "assigneeId"];

    public void Map(IEndpointRouteBuilder api) =>
        api.MapPatch("/tasks/{id}", HandleAsync)
           .WithName("PatchTask")
           .RequireScope(Scopes.TasksWrite)
           .WithTags("Tasks")
           .WithSummary("Change some of a task's fields (JSON merge patch)")
           .RequireAuthorization(Policies.TaskWriter)
           .Accepts<UpdateTaskRequest>(MergePatch)
           .WithRequestExample(new { status = "done", description = (string?)null })
           .ProducesValidationProblem()
           .ProducesProblem(StatusCodes.Status403Forbidden)
           .ProducesProblem(StatusCodes.Status404NotFound)
           .ProducesProblem(StatusCodes.Status409Conflict)
           .ProducesProblem(StatusCodes.Status412PreconditionFailed)
           .ProducesProblem(StatusCodes.Status415UnsupportedMediaType);

    private static async Task<Results<Ok<TaskResponse>, ValidationProblem, ProblemHttpResult>> HandleAsync(
        Guid id, [Microsoft.AspNetCore.Mvc.FromBody] JsonElement patch, ClaimsPrincipal caller, AppDbContext db, Marten.IDocumentStore documents, IValidator<UpdateTaskRequest> validator,
        IOptions<JsonOptions> json, TimeProvider clock, HttpContext http, CancellationToken ct)
    {
        if (patch.ValueKind != JsonValueKind.Object)
        {
            return Invalid("", "A merge patch for a task must be a JSON object.");
        }

        var unknown = patch.EnumerateObject().Select(p => p.Name).FirstOrDefault(n => !Members.Contains(n));
        if (unknown is not null)
        {
            return Invalid(unknown, $"'{unknown}' is not a field of a task; patchable fields: {string.Join(", ", Members)}.");
        }

        var task = await db.Set<TaskItem>().AsTracking().VisibleTo(caller).FirstOrDefaultAsync(t => t.Id == id, ct);
        if (task is null)
        {
            return TaskItemAccess.NotFound(id);
        }

        if (!caller.MayEdit(task))
        {
            return TaskItemAccess.OwnerOnly();
        }

        if (TaskETag.IfMatchFails(http.Request, task.Version))
        {
            return TaskETag.PreconditionFailed(task.Version);
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

        var validation = await validator.ValidateAsync(request!, ct);
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

        request.ApplyTo(task);
        task.UpdatedAt = clock.GetStoredUtcNow();
        // UPDATE ... WHERE xmin = <version read above>: a concurrent write makes it match nothing.
        if (await TaskETag.SaveAsync(db, task, http, ct) is { } lostRace)
        {
            return lostRace;
        }

        return TypedResults.Ok(TaskResponse.From(task));
    }

    private static ValidationProblem Invalid(string member, string message) =>
        TypedResults.ValidationProblem(new Dictionary<string, string[]> { [member] = [message] }, title: "The request is invalid.");
}
