using Marten;

namespace SliceApi.Infrastructure.Data;

/// <summary>
/// A data step a release needs once per database, after its schema step: filling what a new mapping holds for rows
/// written before it (e.g. the first history event of older tasks). Feature folders implement it; every implementation
/// in the assembly runs, in name order, in <c>migrate</c> and, with <c>Database:MigrateOnStartup</c>, at start-up.
/// </summary>
internal interface IDataMigration
{
    /// <summary>A stable name, recorded once the step has finished so it never runs again (e.g. <c>2026-12-task-history</c>).</summary>
    string Name { get; }

    /// <summary>
    /// Does the next batch of the work in <paramref name="session"/> (its transaction is open and committed after the
    /// call) and returns how many rows it handled; 0 when nothing is left, which records the step as applied.
    /// </summary>
    Task<int> ApplyBatchAsync(IDocumentSession session, CancellationToken ct);
}

/// <summary>That a data step has run (document <c>mt_doc_applieddatamigration</c>, id = the step's name).</summary>
internal sealed class AppliedDataMigration
{
    /// <summary>The step's <see cref="IDataMigration.Name"/>.</summary>
    public required string Id { get; init; }

    /// <summary>When it finished (UTC).</summary>
    public DateTimeOffset AppliedAt { get; init; }
}

/// <summary>Maps <see cref="AppliedDataMigration"/>.</summary>
internal sealed class AppliedDataMigrationMapping : IConfigureMarten
{
    public void Configure(IServiceProvider services, StoreOptions options) => options.Schema.For<AppliedDataMigration>();
}

/// <summary>Runs the data steps that have not run on this database.</summary>
internal static class DataMigrations
{
    private const long LockSpace = 0x5D_A7A5; // the advisory-lock space of data steps (LockedReads.TakeTurnAsync)

    /// <summary>
    /// Runs each step not yet recorded, batch by batch, each batch in its own transaction under an advisory lock on the
    /// step's name, so instances starting at once take turns and none repeats another's batch; records the step when a
    /// batch finds nothing left.
    /// </summary>
    public static async Task ApplyAsync(IDocumentStore store, IEnumerable<IDataMigration> steps, TimeProvider clock, CancellationToken ct)
    {
        foreach (var step in steps.OrderBy(s => s.Name, StringComparer.Ordinal))
        {
            while (true)
            {
                await using var session = store.LightweightSession();
                await session.TakeTurnAsync(LockSpace, step.Name, ct);
                var done = await session.LoadAsync<AppliedDataMigration>(step.Name, ct) is not null;
                if (!done && await step.ApplyBatchAsync(session, ct) == 0)
                {
                    session.Store(new AppliedDataMigration { Id = step.Name, AppliedAt = clock.GetUtcNow() });
                    done = true;
                }

                await session.SaveChangesAsync(ct);
                if (done)
                {
                    break;
                }
            }
        }
    }
}

/// <summary>With <c>Database:MigrateOnStartup</c>: runs the data steps after Marten's schema step, before the API serves.</summary>
internal sealed class DataMigrationStartup(IDocumentStore store, IEnumerable<IDataMigration> steps, TimeProvider clock) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => DataMigrations.ApplyAsync(store, steps, clock, cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
