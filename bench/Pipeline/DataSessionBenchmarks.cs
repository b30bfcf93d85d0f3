using BenchmarkDotNet.Attributes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using SliceApi.Features.Tasks;
using SliceApi.Infrastructure.Data;

namespace SliceApi.Benchmarks;

/// <summary>
/// Reading one task by id on the benchmark database (SLICEAPI_BENCH_POSTGRES, set by bench/run.sh): the data
/// session as a request uses it (a scope renting the pooled AppDbContext, then a query) against a raw Npgsql
/// command like the floor's. Shows what EF Core costs per read on this machine.
/// </summary>
[MemoryDiagnoser]
public class DataSessionBenchmarks
{
    private static readonly Func<AppDbContext, Guid, CancellationToken, Task<TaskItem?>> Compiled =
        EF.CompileAsyncQuery((AppDbContext db, Guid id, CancellationToken ct) => db.Set<TaskItem>().FirstOrDefault(t => t.Id == id));

    private ServiceProvider? services;
    private NpgsqlDataSource? dataSource;
    private Guid id;

    [GlobalSetup]
    public async Task SetupAsync()
    {
        var connectionString = Environment.GetEnvironmentVariable("SLICEAPI_BENCH_POSTGRES")
            ?? throw new InvalidOperationException("Set SLICEAPI_BENCH_POSTGRES (bench/run.sh does).");
        services = new ServiceCollection()
            .AddDbContextPool<AppDbContext>(o => o.UseNpgsql(connectionString).UseQueryTrackingBehavior(QueryTrackingBehavior.NoTracking))
            .BuildServiceProvider();
        dataSource = NpgsqlDataSource.Create(connectionString);
        await using var command = dataSource.CreateCommand("SELECT id FROM tasks LIMIT 1");
        id = (Guid)(await command.ExecuteScalarAsync())!;
    }

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        await services!.DisposeAsync();
        await dataSource!.DisposeAsync();
    }

    [Benchmark(Baseline = true)]
    public async Task<string> RawNpgsql()
    {
        await using var command = dataSource!.CreateCommand(
            "SELECT id, owner_id, title, description, status, due_at, created_at, updated_at FROM tasks WHERE id = $1 LIMIT 1");
        command.Parameters.Add(new NpgsqlParameter { Value = id });
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        return reader.GetString(2);
    }

    [Benchmark]
    public async Task<string> EfCompiledQuery()
    {
        await using var scope = services!.CreateAsyncScope();
        var task = await Compiled(scope.ServiceProvider.GetRequiredService<AppDbContext>(), id, CancellationToken.None);
        return task!.Title;
    }

    [Benchmark]
    public async Task<string> EfLinqQuery()
    {
        await using var scope = services!.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var task = await db.Set<TaskItem>().FirstOrDefaultAsync(t => t.Id == id);
        return task!.Title;
    }
}
