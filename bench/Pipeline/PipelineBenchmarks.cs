using System.Net.Http.Headers;
using System.Security.Claims;
using System.Text;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Running;
using FluentValidation;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using SliceApi.Features.Auth;
using SliceApi.Features.Tasks;
using SliceApi.Features.Users;
using SliceApi.Infrastructure.Errors;
using SliceApi.Infrastructure.Http;
using SliceApi.Infrastructure.Json;
using SliceApi.Infrastructure.Security;
using SliceApi.Infrastructure.Endpoints;
using FastEndpoints;
using Microsoft.AspNetCore.Http.HttpResults;

BenchmarkSwitcher.FromAssembly(typeof(SliceApi.Benchmarks.PipelineBenchmarks).Assembly).Run(args);

namespace SliceApi.Benchmarks
{
    /// <summary>
    /// One valid POST /api/v1/tasks through SliceApi's middleware and FastEndpoints pipeline (the Program.cs order:
    /// transport headers, CORS, problem details, exception handler, status-code pages, body limit, JWT bearer
    /// authentication with the account check, rate limiter, the role requirement, API key scopes, the
    /// FastEndpoints binding and validator, typed results), against a bare Minimal API endpoint that runs the same
    /// validator by hand. Both handlers answer 201 without touching a database, so the difference is the
    /// framework overhead SliceApi adds. Both hosts use TestServer: no sockets.
    /// </summary>
    [MemoryDiagnoser]
    public class PipelineBenchmarks
    {
        private const string Body = """{"title":"Benchmark task","description":"In process","dueAt":"2026-12-01T17:00:00Z","status":"in_progress"}""";
        private WebApplication? sliceApp;
        private WebApplication? bareApp;
        private HttpClient? slice;
        private HttpClient? bare;
        private HttpClient? sliceAnonymous;

        [GlobalSetup]
        public async Task SetupAsync()
        {
            (sliceApp, slice) = await StartAsync(BuildSliceApi);
            (bareApp, bare) = await StartAsync(BuildBare);
            sliceAnonymous = sliceApp.GetTestClient();
            var token = AccessTokenIssuer.Issue(sliceApp.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<JwtOptions>>().Value, TimeProvider.System, Guid.NewGuid(), "bench@example.com", AppRoles.User).AccessToken;
            slice.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
            bare.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
            await CheckAsync(slice);
            await CheckAsync(bare);
        }

        [GlobalCleanup]
        public async Task CleanupAsync()
        {
            await sliceApp!.DisposeAsync();
            await bareApp!.DisposeAsync();
        }

        [Benchmark(Baseline = true)]
        public Task<int> BareMinimalApi() => PostAsync(bare!);

        [Benchmark]
        public Task<int> SliceApiPipeline() => PostAsync(slice!);

        // The breakdown: the same host with pieces of the chain left out, to show what each costs.

        /// <summary>Bearer authentication, the group's authenticated-user requirement, validation; no role policy.</summary>
        [Benchmark]
        public Task<int> WithoutRolePolicy() => PostAsync(slice!, "/api/v1/authn-only");

        /// <summary>No token and no authorization; the middleware and the validation filter.</summary>
        [Benchmark]
        public Task<int> WithoutAuthentication() => PostAsync(sliceAnonymous!, "/api/v1/open");

        /// <summary>No token, no authorization, no validation filter: SliceApi's middleware only.</summary>
        [Benchmark]
        public Task<int> MiddlewareOnly() => PostAsync(sliceAnonymous!, "/api/v1/raw");

        private static async Task<int> PostAsync(HttpClient client, string path = "/api/v1/tasks")
        {
            using var content = new StringContent(Body, Encoding.UTF8, "application/json");
            using var response = await client.PostAsync(path, content);
            var bytes = await response.Content.ReadAsByteArrayAsync();
            return (int)response.StatusCode + bytes.Length;
        }

        private static async Task CheckAsync(HttpClient client)
        {
            using var content = new StringContent(Body, Encoding.UTF8, "application/json");
            using var response = await client.PostAsync("/api/v1/tasks", content);
            if (response.StatusCode != System.Net.HttpStatusCode.Created)
            {
                throw new InvalidOperationException($"Expected 201, got {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
            }
        }

        private static async Task<(WebApplication App, HttpClient Client)> StartAsync(Action<WebApplicationBuilder> configure)
        {
            var builder = WebApplication.CreateBuilder();
            builder.WebHost.UseTestServer();
            builder.Logging.ClearProviders();
            builder.Configuration["Jwt:SigningKey"] = "benchmark-signing-key-of-at-least-32-bytes-0123456789";
            configure(builder);
            var app = builder.Build();
            ((Action<WebApplication>)app.Services.GetRequiredService(typeof(Action<WebApplication>)))(app);
            await app.StartAsync();
            return (app, app.GetTestClient());
        }

        // The same Infrastructure calls Program.cs makes, and an endpoint with CreateTaskEndpoint's conventions.
        private static void BuildSliceApi(WebApplicationBuilder builder)
        {
            builder.Configuration["Http:RequireHttps"] = "false"; // TestServer speaks plain HTTP
            builder.Configuration["RateLimiting:AuthenticatedPerMinute"] = "1000000000"; // limits far above the load: every request is served
            builder.Configuration["RateLimiting:AnonymousPerMinute"] = "1000000000";
            builder.Services.AddSingleton(TimeProvider.System);
            builder.Services.AddApiJson();
            builder.Services.AddHttpHardening();
            builder.Services.AddApiProblemDetails();
            builder.Services.AddApiSecurity();
            builder.Services.AddApiRateLimiting();
            builder.Services.AddApiEndpoints(typeof(PipelineBenchmarks).Assembly); // the endpoints below, not the app's (they need a database)
            builder.Services.AddUserAccounts();
            builder.Services.AddScoped<IAccountStatusSource, EveryAccountActive>(); // no database here
            builder.Services.AddSingleton<Action<WebApplication>>(app =>
            {
                app.UseHttpHardening();
                app.UseApiProblemDetails();
                app.UseRequestBodyLimit();
                app.UseAuthentication();
                app.UseRateLimiter();
                app.UseAuthorization();
                app.UseApiKeyScopes();
                app.UseStorableTextCheck();
                app.UseMissingContentTypeProblem();
                app.UseApiEndpoints();
            });
        }

        private sealed class EveryAccountActive : IAccountStatusSource
        {
            public Task<AccountStatus?> FindAsync(Guid userId, CancellationToken ct) => Task.FromResult<AccountStatus?>(new AccountStatus(true, AppRoles.User));
        }

        /// <summary>POST /api/v1/tasks with CreateTask's conventions (roles, API-key scope, validator), answering without a database.</summary>
        internal sealed class BenchCreateTask(TimeProvider clock) : Endpoint<CreateTaskRequest, Created<TaskResponse>>
        {
            public override void Configure()
            {
                Post("tasks");
                Roles(AppRoles.Admin, AppRoles.User);
                Definition.CallableWithScope(ApiScopes.TasksWrite);
                Validator<CreateTaskValidator>();
            }

            public override Task<Created<TaskResponse>> ExecuteAsync(CreateTaskRequest req, CancellationToken ct) => Task.FromResult(Respond(req, User.GetUserId(), clock));
        }

        /// <summary>Bearer authentication and validation; no role.</summary>
        internal sealed class BenchAuthenticatedOnly(TimeProvider clock) : Endpoint<CreateTaskRequest, Created<TaskResponse>>
        {
            public override void Configure()
            {
                Post("authn-only");
                Validator<CreateTaskValidator>();
            }

            public override Task<Created<TaskResponse>> ExecuteAsync(CreateTaskRequest req, CancellationToken ct) => Task.FromResult(Respond(req, Guid.Empty, clock));
        }

        /// <summary>Anonymous, with validation.</summary>
        internal sealed class BenchOpen(TimeProvider clock) : Endpoint<CreateTaskRequest, Created<TaskResponse>>
        {
            public override void Configure()
            {
                Post("open");
                AllowAnonymous();
                Validator<CreateTaskValidator>();
            }

            public override Task<Created<TaskResponse>> ExecuteAsync(CreateTaskRequest req, CancellationToken ct) => Task.FromResult(Respond(req, Guid.Empty, clock));
        }

        /// <summary>Anonymous, without validation.</summary>
        internal sealed class BenchRaw(TimeProvider clock) : Endpoint<CreateTaskRequest, Created<TaskResponse>>
        {
            public override void Configure()
            {
                Post("raw");
                AllowAnonymous();
            }

            public override Task<Created<TaskResponse>> ExecuteAsync(CreateTaskRequest req, CancellationToken ct) => Task.FromResult(Respond(req, Guid.Empty, clock));
        }

        private static Created<TaskResponse> Respond(CreateTaskRequest request, Guid owner, TimeProvider clock)
        {
            var now = clock.GetUtcNow();
            var response = new TaskResponse(Guid.CreateVersion7(), request.Title.Trim(), request.Description,
                request.Status ?? TaskItemStatus.Todo, request.DueAt, owner, request.AssigneeId, now, now);
            return TypedResults.Created($"/api/v1/tasks/{response.Id}", response);
        }

        // The same JSON contract and validator, and nothing else.
        private static void BuildBare(WebApplicationBuilder builder)
        {
            builder.Services.AddApiJson();
            builder.Services.AddSingleton<IValidator<CreateTaskRequest>, CreateTaskValidator>(); // FastEndpoints' Validator<T> is a FluentValidation validator
            builder.Services.AddSingleton<Action<WebApplication>>(app =>
                app.MapPost("/api/v1/tasks", async (CreateTaskRequest request, IValidator<CreateTaskRequest> validator) =>
                {
                    var result = await validator.ValidateAsync(request);
                    if (!result.IsValid)
                    {
                        return Results.ValidationProblem(result.ToDictionary());
                    }

                    var now = DateTimeOffset.UtcNow;
                    var response = new TaskResponse(Guid.CreateVersion7(), request.Title.Trim(), request.Description,
                        request.Status ?? TaskItemStatus.Todo, request.DueAt, Guid.Empty, request.AssigneeId, now, now);
                    return Results.Created($"/api/v1/tasks/{response.Id}", response);
                }));
        }
    }
}
