using FastEndpoints;
using SliceApi.Infrastructure.OpenApi;

namespace SliceApi.Features.Tasks;

/// <summary>The task slices: tagged <c>Tasks</c> in the OpenAPI document.</summary>
internal sealed class TasksGroup : Group
{
    /// <summary>The tag's place and description in the OpenAPI document.</summary>
    internal static readonly DocumentedTag Tag = new("Tasks", 3,
        "Tasks the caller owns or is assigned: create, list (filter, sort, cursor), read with ETag, replace, merge-patch, delete.");

    public TasksGroup() =>
        Configure("", ep => ep.Description(b => b.WithTags("Tasks").WithMetadata(Tag)));
}

/// <summary>Registers what the tasks area runs beside its endpoints.</summary>
internal static class TasksSetup
{
    /// <summary>The hourly purge of expired idempotency keys, and the tasks' part of an account's deletion (<see cref="TaskAccountDeletion"/>).</summary>
    public static IServiceCollection AddTasks(this IServiceCollection services)
    {
        services.AddIdempotencyKeys();
        services.AddSingleton<SliceApi.Features.Users.IAccountDeletionStep, TaskAccountDeletion>();
        return services;
    }
}

