using BenchmarkDotNet.Attributes;
using Marten;
using Npgsql;
using SliceApi.Features.Tasks;

namespace SliceApi.Benchmarks;

/// <summary>
/// Reading one task by id on the benchmark database (SLICEAPI_BENCH_POSTGRES, set by bench/run.sh): Marten's query
/// session as a request uses it (open a session, load the document, deserialize it) against a raw Npgsql command that
/// reads the same row's JSON. Shows what Marten costs per read on this machine.
/// </summary>
[MemoryDiagnoser]
public class DataSessionBenchmarks
{
    private DocumentStore? store;
    private NpgsqlDataSource? dataSource;
    private Guid id;

    [GlobalSetup]
    public async Task SetupAsync()
    {
        var connectionString = Environment.GetEnvironmentVariable("SLICEAPI_BENCH_POSTGRES")
            ?? throw new InvalidOperationException("Set SLICEAPI_BENCH_POSTGRES (bench/run.sh does).");
        dataSource = NpgsqlDataSource.Create(connectionString);
        store = DocumentStore.For(options =>
        {
            options.Connection(dataSource);
            options.UseSystemTextJsonForSerialization(Weasel.Core.EnumStorage.AsString, Weasel.Core.Casing.CamelCase);
            options.AutoCreateSchemaObjects = JasperFx.AutoCreate.None;
            new TaskItemMapping().Configure(null!, options);
        });
        await using var command = dataSource.CreateCommand("SELECT id FROM mt_doc_taskitem LIMIT 1");
        id = (Guid)(await command.ExecuteScalarAsync())!;
    }

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        store!.Dispose();
        await dataSource!.DisposeAsync();
    }

    [Benchmark(Baseline = true)]
    public async Task<string> RawNpgsql()
    {
        await using var command = dataSource!.CreateCommand("SELECT data, mt_version FROM mt_doc_taskitem WHERE id = $1");
        command.Parameters.Add(new NpgsqlParameter { Value = id });
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        return reader.GetString(0);
    }

    [Benchmark]
    public async Task<string> MartenLoad()
    {
        await using var session = store!.QuerySession();
        var task = await session.LoadAsync<TaskItem>(id);
        return task!.Title;
    }
}
