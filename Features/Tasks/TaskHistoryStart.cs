using Marten;
using SliceApi.Infrastructure.Data;

namespace SliceApi.Features.Tasks;

/// <summary>
/// The data step that starts the history of tasks written before it existed: each task without a stream gets a
/// <c>created</c> event holding its stored state, by <c>system</c> (who created it and how was never recorded; the
/// task's own <c>createdAt</c> says when). Runs once per database, 1,000 tasks per transaction.
/// </summary>
internal sealed class TaskHistoryStart : IDataMigration
{
    private const int BatchSize = 1000;

    /// <inheritdoc />
    public string Name => "2026-12-task-history";

    /// <inheritdoc />
    public async Task<int> ApplyBatchAsync(IDocumentSession session, CancellationToken ct)
    {
        var tasks = await session.QueryAsync<TaskItem>(
            "where not exists (select 1 from mt_streams s where s.id = d.id) order by d.id limit ?", ct, BatchSize);
        foreach (var task in tasks)
        {
            TaskHistory.Created(session, actor: null, task);
        }

        return tasks.Count;
    }
}
