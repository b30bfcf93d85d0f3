using SliceApi.Infrastructure.Cli;
using SliceApi.Infrastructure.Data;
using SliceApi.Infrastructure.Endpoints;
using SliceApi.Infrastructure.Errors;
using SliceApi.Infrastructure.Health;
using SliceApi.Infrastructure.Http;
using SliceApi.Infrastructure.Json;
using SliceApi.Infrastructure.OpenApi;
using SliceApi.Infrastructure.Security;
using SliceApi.Infrastructure.Validation;

var builder = WebApplication.CreateBuilder(args);

builder.Services.AddSingleton(TimeProvider.System);
builder.Services.AddApiJson();
builder.Services.AddHttpHardening();
builder.Services.AddApiProblemDetails();
builder.Services.AddData(builder.Configuration);
builder.Services.AddIdempotencyKeys();
builder.Services.AddApiSecurity();
builder.Services.AddApiRateLimiting();
builder.Services.AddRequestValidation();
builder.Services.AddApiDocumentation();

var app = builder.Build();

app.UseHttpHardening();
app.UseApiProblemDetails();
app.UseRequestBodyLimit();
app.UseApiDocumentation();
app.UseAuthentication();
app.UseRateLimiter();
app.UseAuthorization();
app.UseApiKeyScopes();
app.UseDeprecationHeaders();
app.UseStorableTextCheck();
app.MapHealthEndpoints();
app.MapEndpoints();

return await app.RunCommandOrServeAsync(args);

/// <summary>The web host's entry point; public so WebApplicationFactory can find it.</summary>
public partial class Program;
