using System.Security.Cryptography;
using Alba;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using SliceApi.Features.Auth;
using SliceApi.Features.Tasks;
using SliceApi.Features.Users;
using SliceApi.Infrastructure.Data;
using SliceApi.Infrastructure.Security;

namespace SliceApi.Tests.Support;

/// <summary>A user made for one test, with an access token signed by the test key.</summary>
public sealed record TestUser(Guid Id, string Email, string Password, string Role, string AccessToken);

/// <summary>
/// The real app (the whole middleware pipeline, real JWT validation) on an Alba host, against its own
/// PostgreSQL database. One instance per test class (<c>IClassFixture&lt;AppFixture&gt;</c>), so classes run in parallel,
/// each on its own database; tests assert only on data they made (a fresh user per test).
/// </summary>
public class AppFixture : IAsyncLifetime
{
    /// <summary>The password of every user made by <see cref="CreateUserAsync"/>.</summary>
    public const string Password = "correct horse battery staple";

    // PBKDF2 costs tens of milliseconds, so every test user shares one precomputed hash.
    private static readonly Lazy<string> PasswordHash = new(() =>
        User.PasswordHasher.HashPassword(new User { Email = "x@example.com", DisplayName = "x", Role = AppRoles.User }, Password));

    private IAlbaHost? host;

    /// <summary>The HS256 key of this fixture's tokens (random per fixture).</summary>
    public string SigningKey { get; } = Convert.ToBase64String(RandomNumberGenerator.GetBytes(48));

    /// <summary>The connection string of this fixture's database; it is dropped on dispose.</summary>
    public string ConnectionString { get; protected set; } = string.Empty;

    /// <summary>The running app.</summary>
    public IAlbaHost Host => host ?? throw new InvalidOperationException("The fixture has not started.");

    /// <summary>The app's root service provider.</summary>
    public IServiceProvider Services => Host.Services;

    public virtual async ValueTask InitializeAsync()
    {
        ConnectionString = await CreateDatabaseAsync();
        host = await StartHostAsync();
    }

    /// <summary>
    /// Starts another instance of the app on this fixture's database and settings, as a second server behind a load
    /// balancer would be. The caller disposes it.
    /// </summary>
    public Task<IAlbaHost> StartHostAsync() =>
        AlbaHost.For<Program>(builder =>
        {
            // Not Development: tests see what production clients see (no exception details, strict key checks).
            builder.UseEnvironment("Testing");
            builder.UseSetting("ConnectionStrings:Postgres", ConnectionString);
            builder.UseSetting("Jwt:SigningKey", SigningKey);
            builder.UseSetting("Logging:LogLevel:Default", "Warning");
            builder.UseSetting("Shutdown:DrainSeconds", "0"); // hosts stop at once at the end of a class
            // The test server speaks plain HTTP, and every anonymous test request shares one client address:
            // the transport and rate-limit tests turn these back on in fixtures of their own.
            builder.UseSetting("Http:RequireHttps", "false");
            builder.UseSetting("RateLimiting:AnonymousPerMinute", "100000");
            builder.UseSetting("RateLimiting:CredentialsPerMinute", "100000");
            ConfigureHost(builder);
        }).StartAsync();

    public virtual async ValueTask DisposeAsync()
    {
        if (host is not null)
        {
            await host.DisposeAsync();
        }

        await DropDatabaseAsync();
        GC.SuppressFinalize(this);
    }

    /// <summary>Creates this fixture's database before the host starts.</summary>
    /// <returns>Its connection string.</returns>
    protected virtual Task<string> CreateDatabaseAsync() => TestDatabaseServer.Current.CreateMigratedDatabaseAsync();

    /// <summary>Drops this fixture's database after the host has stopped.</summary>
    protected virtual async Task DropDatabaseAsync()
    {
        if (ConnectionString.Length > 0)
        {
            await TestDatabaseServer.Current.DropDatabaseAsync(ConnectionString);
        }
    }

    /// <summary>Settings and services of a fixture variant, applied after the defaults above.</summary>
    protected virtual void ConfigureHost(IWebHostBuilder builder)
    {
    }

    /// <summary>A client without credentials.</summary>
    public ScenarioClient CreateAnonymousClient() => new(Host);

    /// <summary>A client without credentials whose requests arrive over HTTPS (scheme https, host localhost).</summary>
    public ScenarioClient CreateHttpsClient() => new(Host, s => s.ConfigureHttpContext(c => c.Request.Scheme = "https"));

    /// <summary>A client that sends <paramref name="user"/>'s access token.</summary>
    public ScenarioClient ClientFor(TestUser user) => CreateBearerClient(user.AccessToken);

    /// <summary>A client that sends <paramref name="accessToken"/> as <c>Authorization: Bearer</c>.</summary>
    public ScenarioClient CreateBearerClient(string accessToken) => new(Host, s => s.WithBearerToken(accessToken));

    /// <summary>A client that sends <paramref name="apiKey"/> as <c>X-Api-Key</c>.</summary>
    public ScenarioClient CreateApiKeyClient(string apiKey) => new(Host, s => s.WithRequestHeader("X-Api-Key", apiKey));

    /// <summary>Stores a fresh user with <paramref name="role"/> and a unique email, and issues their access token.</summary>
    public async Task<TestUser> CreateUserAsync(string role = AppRoles.User)
    {
        var email = $"{role}-{Guid.NewGuid():N}@example.com";
        var user = new User
        {
            Id = Guid.CreateVersion7(),
            Email = email,
            DisplayName = $"Test {role}",
            Role = role,
            PasswordHash = PasswordHash.Value,
            CreatedAt = TimeProvider.System.GetStoredUtcNow(),
        };
        await WithDocumentsAsync(session =>
        {
            session.Insert(user);
            return session.SaveChangesAsync();
        });
        var token = AccessTokenIssuer.Issue(Services.GetRequiredService<IOptions<JwtOptions>>().Value, TimeProvider.System, user.Id, email, role);
        return new TestUser(user.Id, email, Password, role, token.AccessToken);
    }

    /// <summary>Stores a task directly (for owners the API cannot create tasks for, such as guests, or assigned at creation).</summary>
    internal async Task<TaskItem> CreateTaskAsync(
        Guid ownerId, string title, TaskItemStatus status = TaskItemStatus.Todo, Guid? assigneeId = null,
        DateTimeOffset? dueAt = null, string? description = null)
    {
        var now = TimeProvider.System.GetStoredUtcNow();
        var task = new TaskItem
        {
            Id = Guid.CreateVersion7(), OwnerId = ownerId, AssigneeId = assigneeId, Title = title, Description = description,
            Status = status, DueAt = dueAt, CreatedAt = now, UpdatedAt = now,
        };
        await WithDocumentsAsync(session =>
        {
            session.Insert(task);
            return session.SaveChangesAsync();
        });
        return task;
    }

    /// <summary>Runs <paramref name="action"/> with a fresh Marten document session on this fixture's database, for arranging and asserting.</summary>
    internal async Task WithDocumentsAsync(Func<Marten.IDocumentSession, Task> action)
    {
        await using var session = Services.GetRequiredService<Marten.IDocumentStore>().LightweightSession();
        await action(session);
    }

    /// <summary>Reads every document of <typeparamref name="T"/> matching <paramref name="predicate"/>.</summary>
    public async Task<IReadOnlyList<T>> FindDocumentsAsync<T>(System.Linq.Expressions.Expression<Func<T, bool>> predicate) where T : notnull
    {
        await using var session = Services.GetRequiredService<Marten.IDocumentStore>().QuerySession();
        return await Marten.QueryableExtensions.ToListAsync(session.Query<T>().Where(predicate));
    }

    /// <summary>Reads every document of <typeparamref name="T"/> matching <paramref name="predicate"/>, as a list.</summary>
    public async Task<List<T>> FindAsync<T>(System.Linq.Expressions.Expression<Func<T, bool>> predicate) where T : notnull =>
        [.. await FindDocumentsAsync(predicate)];
}
