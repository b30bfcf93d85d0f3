using SliceApi.Features.ApiKeys;
using SliceApi.Features.Changes;
using SliceApi.Features.OAuth;
using SliceApi.Features.Tasks;
using SliceApi.Features.Users;
using SliceApi.Features.Webhooks;
using SliceApi.Infrastructure.Cli;
using SliceApi.Infrastructure.Data;
using SliceApi.Infrastructure.Endpoints;
using SliceApi.Infrastructure.Errors;
using SliceApi.Infrastructure.Health;
using SliceApi.Infrastructure.Http;
using SliceApi.Infrastructure.Json;
using SliceApi.Infrastructure.OpenApi;
using SliceApi.Infrastructure.Security;
using SliceApi.Infrastructure.Telemetry;

var builder = WebApplication.CreateBuilder(args);

builder.Services.AddSingleton(TimeProvider.System);
builder.Services.AddApiJson();
builder.Services.AddHttpHardening();
builder.Services.AddApiProblemDetails();
builder.Services.AddData(builder.Configuration);
builder.Services.AddTasks();
builder.Services.AddApiSecurity();
builder.Services.AddApiKeyAuthentication();
builder.Services.AddUserAccounts();
builder.Services.AddOAuth();
builder.Services.AddChanges();
builder.Services.AddWebhooks();
builder.Services.AddApiRateLimiting();
builder.Services.AddApiEndpoints();
builder.Services.AddApiDocumentation();
builder.Services.AddGracefulShutdown();
builder.AddApiTelemetry();

var app = builder.Build();

app.UseApiTelemetry();
app.UseHttpHardening();
app.UseGracefulShutdown();
app.UseApiProblemDetails();
app.UseRequestBodyLimit();
app.UseApiDocumentation();
app.UseOAuthServerRateLimits();
app.UseAuthentication();
app.UseRateLimiter();
app.UseAuthorization();
app.UseApiKeyScopes();
app.UseDeprecationHeaders();
app.UseStorableTextCheck();
app.UseMissingContentTypeProblem();
app.MapHealthEndpoints();
app.MapOAuthPages();

return await app.RunCommandOrServeAsync(args, mapEndpoints: api => api.UseApiEndpoints());

/// <summary>The web host's entry point; public so Alba's host can find it.</summary>
public partial class Program;
