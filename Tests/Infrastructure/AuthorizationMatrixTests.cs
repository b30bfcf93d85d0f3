using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using SliceApi.Features.ApiKeys;
using SliceApi.Features.Tasks;
using SliceApi.Infrastructure.Security;
using SliceApi.Tests.Support;

namespace SliceApi.Tests.Infrastructure;

/// <summary>
/// Every endpoint of the app times every kind of caller, with the status each must get. The endpoints are
/// enumerated from the app's endpoint data source, so an endpoint without a row here fails the test.
/// Each cell runs on a fresh scenario (fresh users, task and keys), so writes in one cell cannot decide another.
/// </summary>
public sealed class AuthorizationMatrixTests(AppFixture api) : IClassFixture<AppFixture>
{
    /// <summary>The callers, in the column order of <see cref="Matrix"/>.</summary>
    public enum Caller { Anonymous, Guest, Owner, Assignee, OtherUser, Admin, KeyWithScope, KeyWithoutScope, AppReadOnly, AppReadWrite, AppProfileOnly }

    private static readonly Caller[] Callers = Enum.GetValues<Caller>();

    // endpoint name -> (request, expected status per caller: Anonymous, Guest, Owner, Assignee, OtherUser, Admin, KeyWithScope, KeyWithoutScope,
    // and the Owner's access tokens of an OAuth app granted tasks:read, tasks:read + tasks:write, or profile)
    private static readonly Dictionary<string, (Func<World, HttpRequestMessage> Request, int[] Expected)> Matrix = new()
    {
        ["RegisterUser"] = (_ => Json(HttpMethod.Post, "/api/v1/users", new { email = $"new-{Guid.NewGuid():N}@example.com", password = "a long enough passphrase", displayName = "New" }),
            [201, 201, 201, 201, 201, 201, 403, 403, 403, 403, 403]),
        ["Login"] = (w => Json(HttpMethod.Post, "/api/v1/auth/login", new { email = w.Owner.Email, password = w.Owner.Password }),
            [200, 200, 200, 200, 200, 200, 403, 403, 403, 403, 403]),
        ["RefreshTokens"] = (_ => Json(HttpMethod.Post, "/api/v1/auth/refresh", new { refreshToken = "unknown-refresh-token" }),
            [401, 401, 401, 401, 401, 401, 403, 403, 403, 403, 403]),
        ["Logout"] = (_ => Json(HttpMethod.Post, "/api/v1/auth/logout", new { refreshToken = "unknown-refresh-token" }),
            [204, 204, 204, 204, 204, 204, 403, 403, 403, 403, 403]),
        ["GetCurrentUser"] = (_ => new HttpRequestMessage(HttpMethod.Get, "/api/v1/users/me"),
            [401, 200, 200, 200, 200, 200, 403, 403, 403, 403, 200]),
        ["GetUser"] = (w => new HttpRequestMessage(HttpMethod.Get, $"/api/v1/users/{w.Owner.Id}"),
            [401, 404, 200, 404, 404, 200, 403, 403, 403, 403, 403]),
        ["ListUsers"] = (_ => new HttpRequestMessage(HttpMethod.Get, "/api/v1/users"),
            [401, 403, 403, 403, 403, 200, 403, 403, 403, 403, 403]),
        ["UpdateUser"] = (w => Json(HttpMethod.Patch, $"/api/v1/users/{w.Owner.Id}", new { displayName = "Renamed" }),
            [401, 404, 200, 404, 404, 200, 403, 403, 403, 403, 403]),
        ["DeleteUser"] = (w => new HttpRequestMessage(HttpMethod.Delete, $"/api/v1/users/{w.Owner.Id}"),
            [401, 404, 204, 404, 404, 204, 403, 403, 403, 403, 403]),
        ["ChangePassword"] = (_ => Json(HttpMethod.Post, "/api/v1/users/me/password", new { currentPassword = AppFixture.Password, newPassword = "a different passphrase" }),
            [401, 204, 204, 204, 204, 204, 403, 403, 403, 403, 403]),
        ["CreateApiKey"] = (_ => Json(HttpMethod.Post, "/api/v1/api-keys", new { name = "k", scopes = new[] { "tasks:read" } }),
            [401, 201, 201, 201, 201, 201, 403, 403, 403, 403, 403]),
        ["ListApiKeys"] = (_ => new HttpRequestMessage(HttpMethod.Get, "/api/v1/api-keys"),
            [401, 200, 200, 200, 200, 200, 403, 403, 403, 403, 403]),
        ["DeleteApiKey"] = (w => new HttpRequestMessage(HttpMethod.Delete, $"/api/v1/api-keys/{w.OwnerKeyId}"),
            [401, 404, 204, 404, 404, 204, 403, 403, 403, 403, 403]),
        ["CreateOAuthApp"] = (_ => Json(HttpMethod.Post, "/api/v1/oauth/apps", new { name = "a", clientType = "public", redirectUris = new[] { "https://app.example.com/cb" } }),
            [401, 201, 201, 201, 201, 201, 403, 403, 403, 403, 403]),
        ["ListOAuthApps"] = (_ => new HttpRequestMessage(HttpMethod.Get, "/api/v1/oauth/apps"),
            [401, 200, 200, 200, 200, 200, 403, 403, 403, 403, 403]),
        ["GetOAuthApp"] = (w => new HttpRequestMessage(HttpMethod.Get, $"/api/v1/oauth/apps/{w.OwnerAppId}"),
            [401, 404, 200, 404, 404, 200, 403, 403, 403, 403, 403]),
        ["UpdateOAuthApp"] = (w => Json(HttpMethod.Put, $"/api/v1/oauth/apps/{w.OwnerAppId}", new { name = "Renamed", redirectUris = MatrixAppRedirect }),
            [401, 404, 200, 404, 404, 200, 403, 403, 403, 403, 403]),
        ["ListAllOAuthApps"] = (_ => new HttpRequestMessage(HttpMethod.Get, "/api/v1/oauth/apps/all"),
            [401, 403, 403, 403, 403, 200, 403, 403, 403, 403, 403]),
        ["DeleteOAuthApp"] = (w => new HttpRequestMessage(HttpMethod.Delete, $"/api/v1/oauth/apps/{w.OwnerAppId}"),
            [401, 404, 204, 404, 404, 204, 403, 403, 403, 403, 403]),
        ["ListGrants"] = (_ => new HttpRequestMessage(HttpMethod.Get, "/api/v1/users/me/authorizations"),
            [401, 200, 200, 200, 200, 200, 403, 403, 403, 403, 403]),
        ["RevokeGrant"] = (w => new HttpRequestMessage(HttpMethod.Delete, $"/api/v1/users/me/authorizations/{w.OwnerGrantId}"),
            [401, 404, 204, 404, 404, 404, 403, 403, 403, 403, 403]),
        ["CreateWebhook"] = (_ => Json(HttpMethod.Post, "/api/v1/webhooks", new { url = "https://203.0.113.10/hook", eventTypes = MatrixEventTypes }),
            [401, 201, 201, 201, 201, 201, 403, 403, 403, 403, 403]),
        ["ListWebhooks"] = (_ => new HttpRequestMessage(HttpMethod.Get, "/api/v1/webhooks"),
            [401, 200, 200, 200, 200, 200, 403, 403, 403, 403, 403]),
        ["GetWebhook"] = (w => new HttpRequestMessage(HttpMethod.Get, $"/api/v1/webhooks/{w.OwnerWebhookId}"),
            [401, 404, 200, 404, 404, 200, 403, 403, 403, 403, 403]),
        ["UpdateWebhook"] = (w => Json(HttpMethod.Put, $"/api/v1/webhooks/{w.OwnerWebhookId}", new { url = "https://203.0.113.11/hook", eventTypes = MatrixEventTypes, enabled = true }),
            [401, 404, 200, 404, 404, 200, 403, 403, 403, 403, 403]),
        ["RotateWebhookSecret"] = (w => new HttpRequestMessage(HttpMethod.Post, $"/api/v1/webhooks/{w.OwnerWebhookId}/rotate-secret"),
            [401, 404, 200, 404, 404, 200, 403, 403, 403, 403, 403]),
        ["ListWebhookDeliveries"] = (w => new HttpRequestMessage(HttpMethod.Get, $"/api/v1/webhooks/{w.OwnerWebhookId}/deliveries"),
            [401, 404, 200, 404, 404, 200, 403, 403, 403, 403, 403]),
        ["RedeliverWebhook"] = (w => new HttpRequestMessage(HttpMethod.Post, $"/api/v1/webhooks/{w.OwnerWebhookId}/deliveries/{w.OwnerDeliveryId}/redeliver"),
            [401, 404, 202, 404, 404, 202, 403, 403, 403, 403, 403]),
        ["DeleteWebhook"] = (w => new HttpRequestMessage(HttpMethod.Delete, $"/api/v1/webhooks/{w.OwnerWebhookId}"),
            [401, 404, 204, 404, 404, 204, 403, 403, 403, 403, 403]),
        ["CreateTask"] = (_ => Json(HttpMethod.Post, "/api/v1/tasks", new { title = "New task" }),
            [401, 403, 201, 201, 201, 201, 201, 403, 403, 201, 403]),
        ["ListTasks"] = (_ => new HttpRequestMessage(HttpMethod.Get, "/api/v1/tasks"),
            [401, 200, 200, 200, 200, 200, 200, 403, 200, 200, 403]),
        ["GetTask"] = (w => new HttpRequestMessage(HttpMethod.Get, $"/api/v1/tasks/{w.Task.Id}"),
            [401, 404, 200, 200, 404, 200, 200, 403, 200, 200, 403]),
        ["GetTaskHistory"] = (w => new HttpRequestMessage(HttpMethod.Get, $"/api/v1/tasks/{w.Task.Id}/history"),
            [401, 404, 200, 200, 404, 200, 200, 403, 200, 200, 403]),
        ["ListChanges"] = (_ => new HttpRequestMessage(HttpMethod.Get, "/api/v1/changes"),
            [401, 200, 200, 200, 200, 200, 200, 403, 200, 200, 403]),
        // A stream that is let through would never end: a cursor past every change makes it a 400 once authorized.
        ["StreamChanges"] = (_ => new HttpRequestMessage(HttpMethod.Get, $"/api/v1/changes/stream?after={long.MaxValue}"),
            [401, 400, 400, 400, 400, 400, 400, 403, 400, 400, 403]),
        ["UpdateTask"] = (w => Json(HttpMethod.Put, $"/api/v1/tasks/{w.Task.Id}", new { title = "Replaced", assigneeId = w.Assignee.Id }),
            [401, 403, 200, 403, 404, 200, 200, 403, 403, 200, 403]),
        ["PatchTask"] = (w => new HttpRequestMessage(HttpMethod.Patch, $"/api/v1/tasks/{w.Task.Id}")
            {
                Content = new StringContent("""{"title":"Patched"}""", Encoding.UTF8, "application/merge-patch+json"),
            },
            [401, 403, 200, 403, 404, 200, 200, 403, 403, 200, 403]),
        ["ChangeTaskStatus"] = (w => Json(HttpMethod.Put, $"/api/v1/tasks/{w.Task.Id}/status", new { status = "done" }),
            [401, 403, 200, 200, 404, 200, 200, 403, 403, 200, 403]),
        ["DeleteTask"] = (w => new HttpRequestMessage(HttpMethod.Delete, $"/api/v1/tasks/{w.Task.Id}"),
            [401, 403, 204, 403, 404, 204, 204, 403, 403, 204, 403]),
    };

    [Fact]
    public void Every_endpoint_of_the_app_has_a_row()
    {
        var names = api.Services.GetRequiredService<EndpointDataSource>().Endpoints
            .OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText!.StartsWith("/api/v1", StringComparison.Ordinal))
            .Select(e => e.Metadata.GetMetadata<IEndpointNameMetadata>()?.EndpointName ?? e.DisplayName!)
            .ToList();

        names.Except(Matrix.Keys).ShouldBeEmpty("endpoints without a row in the authorization matrix");
        Matrix.Keys.Except(names).ShouldBeEmpty("rows for endpoints that no longer exist");
    }

    public static TheoryData<string> Endpoints() => [.. Matrix.Keys.Order(StringComparer.Ordinal)];

    [Theory]
    [MemberData(nameof(Endpoints))]
    public async Task Each_caller_gets_the_expected_status(string endpoint)
    {
        var (request, expected) = Matrix[endpoint];
        var failures = new List<string>();
        for (var i = 0; i < Callers.Length; i++)
        {
            var world = await World.CreateAsync(api);
            var scope = api.Services.GetRequiredService<EndpointDataSource>().Endpoints
                .First(e => e.Metadata.GetMetadata<IEndpointNameMetadata>()?.EndpointName == endpoint)
                .Metadata.GetMetadata<RequiredScope>()?.Scope;
            var client = await world.ClientForAsync(Callers[i], scope);
            var response = await client.SendAsync(request(world));
            if ((int)response.StatusCode() != expected[i])
            {
                failures.Add($"{Callers[i]}: expected {expected[i]}, got {(int)response.StatusCode()} {await response.ReadAsTextAsync()}");
            }
        }

        failures.ShouldBeEmpty($"{endpoint}:\n{string.Join('\n', failures)}");
    }

    private static HttpRequestMessage Json(HttpMethod method, string url, object body) => new(method, url) { Content = JsonContent.Create(body) };

    /// <summary>Fresh users of every kind, a task owned by Owner and assigned to Assignee, API keys of Owner, an OAuth app of Owner and Owner's grant to it.</summary>
    private static readonly string[] MatrixAppRedirect = ["http://127.0.0.1:7000/cb"];
    private static readonly string[] MatrixEventTypes = ["task.created"];

    internal sealed record World(AppFixture Api, TestUser Owner, TestUser Assignee, TestUser OtherUser, TestUser Guest, TestUser Admin,
        TaskItem Task, Dictionary<string, string> Keys, Guid OwnerKeyId, Guid OwnerAppId, string OwnerAppClientId, Guid OwnerGrantId,
        Guid OwnerWebhookId, string OwnerDeliveryId)
    {
        public static async Task<World> CreateAsync(AppFixture api)
        {
            var owner = await api.CreateUserAsync();
            var assignee = await api.CreateUserAsync();
            var task = await api.CreateTaskAsync(owner.Id, "Matrix task", assigneeId: assignee.Id);
            var keys = new Dictionary<string, string>();
            var keyId = Guid.Empty;
            foreach (var (name, scopes) in new[] { ("read", new[] { ApiScopes.TasksRead }), ("write", new[] { ApiScopes.TasksWrite }), ("all", ApiScopes.All.ToArray()) })
            {
                var secret = "sk_test_" + Guid.NewGuid().ToString("N");
                var key = new ApiKey
                {
                    Id = Guid.CreateVersion7(), OwnerId = owner.Id, Name = name, Scopes = scopes, Prefix = secret[..12],
                    KeyHash = ApiKey.HashText(SHA256.HashData(Encoding.UTF8.GetBytes(secret))), CreatedAt = DateTimeOffset.UtcNow.AddTicks(-(DateTimeOffset.UtcNow.Ticks % 10)),
                };
                await api.WithDocumentsAsync(session =>
                {
                    session.Insert(key);
                    return session.SaveChangesAsync();
                });
                keys[name] = secret;
                keyId = key.Id;
            }

            var app = await api.ClientFor(owner).PostAsJsonAsync("/api/v1/oauth/apps", new { name = "Matrix app", clientType = "public", redirectUris = MatrixAppRedirect })
                .ShouldReturnAsync<SliceApi.Features.OAuth.CreateOAuthAppResponse>(System.Net.HttpStatusCode.Created);
            // A grant the Owner gave the app, stored as the consent page stores one.
            var grant = new SliceApi.Features.OAuth.OAuthAuthorization
            {
                Id = Guid.CreateVersion7(), ApplicationId = app.App.Id, Subject = owner.Id.ToString(), CreationDate = DateTimeOffset.UtcNow,
                Scopes = [ApiScopes.TasksRead], Status = "valid", Type = "permanent",
            };
            // A webhook endpoint of the Owner with one failed delivery, stored as the API and the dispatcher store them.
            var webhook = new SliceApi.Features.Webhooks.WebhookEndpoint
            {
                Id = Guid.CreateVersion7(), OwnerId = owner.Id, Url = "https://203.0.113.10/hook", EventTypes = MatrixEventTypes, Enabled = true,
                ProtectedSecret = api.Services.GetRequiredService<SliceApi.Features.Webhooks.WebhookSecrets>().Protect(SliceApi.Features.Webhooks.WebhookSecrets.Create()),
                CreatedAt = DateTimeOffset.UtcNow, EnabledSince = DateTimeOffset.UtcNow,
            };
            var delivery = new SliceApi.Features.Webhooks.WebhookDelivery
            {
                Id = Guid.NewGuid(), EndpointId = webhook.Id, EventSequence = 1, EventType = "task.created", Payload = "{}",
                State = SliceApi.Features.Webhooks.WebhookDeliveryState.Failed, CreatedAt = DateTimeOffset.UtcNow,
            };
            await api.WithDocumentsAsync(session =>
            {
                session.Insert(grant);
                session.Insert(webhook);
                session.Insert(delivery);
                return session.SaveChangesAsync();
            });
            return new World(api, owner, assignee, await api.CreateUserAsync(), await api.CreateUserAsync(AppRoles.Guest), await api.CreateUserAsync(AppRoles.Admin), task, keys, keyId,
                app.App.Id, app.App.ClientId, grant.Id, webhook.Id, delivery.MessageId);
        }

        public async Task<ScenarioClient> ClientForAsync(Caller caller, string? scope)
        {
            if (caller is Caller.AppReadOnly or Caller.AppReadWrite or Caller.AppProfileOnly)
            {
                // The Owner signs in on the authorization page and allows the app; the app exchanges the code.
                using var browser = new OAuthBrowser(Api.Host);
                var pkce = Pkce.Create();
                var granted = caller switch { Caller.AppReadOnly => "tasks:read", Caller.AppReadWrite => "tasks:read tasks:write", _ => "profile" };
                var code = await browser.GetCodeAsync(Owner, OwnerAppClientId, MatrixAppRedirect[0], granted, pkce);
                var (status, tokens) = await browser.TokenAsync(("grant_type", "authorization_code"), ("code", code), ("client_id", OwnerAppClientId),
                    ("redirect_uri", MatrixAppRedirect[0]), ("code_verifier", pkce.Verifier));
                status.ShouldBe(System.Net.HttpStatusCode.OK, tokens.ToString());
                return Api.CreateBearerClient(tokens.GetProperty("access_token").GetString()!);
            }

            var withScope = scope switch { ApiScopes.TasksRead => "read", ApiScopes.TasksWrite => "write", _ => "all" };
            var withoutScope = scope switch { ApiScopes.TasksRead => "write", ApiScopes.TasksWrite => "read", _ => "read" };
            return caller switch
            {
                Caller.Anonymous => Api.CreateAnonymousClient(),
                Caller.Guest => Api.ClientFor(Guest),
                Caller.Owner => Api.ClientFor(Owner),
                Caller.Assignee => Api.ClientFor(Assignee),
                Caller.OtherUser => Api.ClientFor(OtherUser),
                Caller.Admin => Api.ClientFor(Admin),
                Caller.KeyWithScope => Api.CreateApiKeyClient(Keys[withScope]),
                _ => Api.CreateApiKeyClient(Keys[withoutScope]),
            };
        }
    }
}
