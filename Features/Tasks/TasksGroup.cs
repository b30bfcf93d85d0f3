using FastEndpoints;

namespace SliceApi.Features.Tasks;

/// <summary>The task slices: tagged <c>Tasks</c> in the OpenAPI document.</summary>
internal sealed class TasksGroup : Group
{
    public TasksGroup() => Configure("", ep => ep.Description(b => b.WithTags("Tasks")));
}
