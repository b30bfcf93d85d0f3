using System.Text.Json;
using System.Text.Json.Serialization;
using BenchmarkDotNet.Attributes;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using SliceApi.Features.Tasks;
using SliceApi.Infrastructure.Json;

namespace SliceApi.Benchmarks;

/// <summary>
/// The JSON work of the task routes under the API's own serializer options (AddApiJson: its enum, RFC 3339 and
/// storable-string converters): writing a list page of 20 tasks, writing one task, and reading a create body, each with
/// System.Text.Json's reflection metadata (what SliceApi uses) against the same options resolving a source-generated
/// context first (<see cref="TaskJsonContext"/>, what FastEndpoints' serializer contexts would add). The custom
/// converters keep the generated fast path off, so only the metadata's source differs.
/// </summary>
[MemoryDiagnoser]
public class SerializationBenchmarks
{
    private const string CreateBody = """{"title":"Benchmark task","description":"In process","dueAt":"2026-12-01T17:00:00Z","status":"in_progress"}""";

    private readonly MemoryStream sink = new(16 * 1024);
    private JsonSerializerOptions reflection = null!;
    private JsonSerializerOptions generated = null!;
    private ListTasksResponse page = null!;
    private byte[] body = null!;

    [GlobalSetup]
    public void Setup()
    {
        var services = new ServiceCollection().AddApiJson().BuildServiceProvider();
        reflection = new JsonSerializerOptions(services.GetRequiredService<IOptions<JsonOptions>>().Value.SerializerOptions);
        generated = new JsonSerializerOptions(reflection);
        generated.TypeInfoResolverChain.Insert(0, TaskJsonContext.Default);
        var now = DateTimeOffset.UtcNow;
        page = new ListTasksResponse(
            [.. Enumerable.Range(0, 20).Select(i => new TaskResponse(Guid.NewGuid(), $"Task {i} with a title of some length", "A description that says a little more about the task",
                TaskItemStatus.InProgress, now.AddDays(i), Guid.NewGuid(), i % 2 == 0 ? Guid.NewGuid() : null, now, now))],
            "eyJjcmVhdGVkQXQiOiIyMDI2LTEyLTA1VDA2OjAwOjAwWiIsImlkIjoiMDE5MzlhNmUifQ");
        body = System.Text.Encoding.UTF8.GetBytes(CreateBody);
    }

    [Benchmark(Baseline = true)]
    public long WritePageReflection() => Write(page, reflection);

    [Benchmark]
    public long WritePageGenerated() => Write(page, generated);

    [Benchmark]
    public long WriteTaskReflection() => Write(page.Items[0], reflection);

    [Benchmark]
    public long WriteTaskGenerated() => Write(page.Items[0], generated);

    [Benchmark]
    public string ReadCreateReflection() => JsonSerializer.Deserialize<CreateTaskRequest>(body, reflection)!.Title;

    [Benchmark]
    public string ReadCreateGenerated() => JsonSerializer.Deserialize<CreateTaskRequest>(body, generated)!.Title;

    private long Write<T>(T value, JsonSerializerOptions options)
    {
        sink.Position = 0;
        JsonSerializer.Serialize(sink, value, options);
        return sink.Position;
    }
}

/// <summary>The source-generated metadata of the task routes' bodies, for <see cref="SerializationBenchmarks"/>.</summary>
[JsonSerializable(typeof(ListTasksResponse))]
[JsonSerializable(typeof(TaskResponse))]
[JsonSerializable(typeof(CreateTaskRequest))]
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
internal sealed partial class TaskJsonContext : JsonSerializerContext;
