using FluentValidation;
using SliceApi.Infrastructure.Validation;

namespace SliceApi.Features.Tasks;

/// <summary>The writable fields of a task, shared by create (POST) and replace (PUT) so both validate alike.</summary>
internal interface ITaskFields
{
    string Title { get; }

    string? Description { get; }

    DateTimeOffset? DueAt { get; }

    TaskItemStatus? Status { get; }

    Guid? AssigneeId { get; }
}

/// <summary>Writes validated fields onto a task; create, replace and merge-patch share it.</summary>
internal static class TaskFieldsExtensions
{
    /// <summary>Copies every writable field (trimmed title, UTC deadline at stored precision, status defaulting to todo).</summary>
    public static void ApplyTo(this ITaskFields fields, TaskItem task)
    {
        task.Title = fields.Title.Trim();
        task.Description = fields.Description;
        task.DueAt = fields.DueAt is { } due ? SliceApi.Infrastructure.Data.StoredTime.ToStoredPrecision(due) : null;
        task.Status = fields.Status ?? TaskItemStatus.Todo;
        task.AssigneeId = fields.AssigneeId;
    }
}

/// <summary>Shape rules of a task's writable fields.</summary>
internal sealed class TaskFieldsValidator : AbstractValidator<ITaskFields>
{
    public TaskFieldsValidator()
    {
        RuleFor(x => x.Title).Cascade(CascadeMode.Stop)
            .NotEmpty()
            .TrimmedLength(1, 200);
        RuleFor(x => x.Description).MaximumLength(4000);
        RuleFor(x => x.Status).IsInEnum();
    }
}
