using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net;
using Alba;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;
using SliceApi.Features.ApiKeys;
using SliceApi.Features.Auth;
using SliceApi.Infrastructure.Security;
using SliceApi.Tests.Support;

namespace SliceApi.Tests.Infrastructure;

/// <summary>Two app instances (A: <see cref="AppFixture.Host"/>, B: <see cref="Second"/>) on one database, each with its own caches.</summary>
public sealed class TwoInstancesFixture : AppFixture
{
    /// <summary>Instance B.</summary>
    public IAlbaHost Second { get; private set; } = null!;

    /// <summary>What both instances logged.</summary>
    public CapturedLogs Logs { get; } = new();

    public override async ValueTask InitializeAsync()
    {
        await base.InitializeAsync();
        Second = await StartHostAsync();
    }

    public override async ValueTask DisposeAsync()
    {
        await Second.DisposeAsync();
        await base.DisposeAsync();
    }

    /// <summary>A client of instance B sending <paramref name="accessToken"/>.</summary>
    public ScenarioClient SecondClientFor(string accessToken) => new(Second, s => s.WithBearerToken(accessToken));

    protected override void ConfigureHost(IWebHostBuilder builder)
    {
        builder.UseSetting("Logging:LogLevel:SliceApi.Infrastructure.Security", "Information");
        builder.ConfigureServices(services => services.AddSingleton<ILoggerProvider>(Logs));
    }
}

/// <summary>
/// A change made on instance A ends cached rights on instance B within a second (PostgreSQL LISTEN/NOTIFY), where B
/// would otherwise trust its caches for 30 s: each test first makes B cache the state it then changes on A.
/// </summary>
public sealed class RevocationTests(TwoInstancesFixture api) : IClassFixture<TwoInstancesFixture>
{
    private static readonly string[] ReadScope = ["tasks:read"];

    [Fact]
    public async Task An_account_deactivated_on_one_instance_is_refused_on_the_other_within_a_second()
    {
        var user = await api.CreateUserAsync();
        var admin = await api.CreateUserAsync(AppRoles.Admin);
        var onB = api.SecondClientFor(user.AccessToken);
        await onB.GetAsync("/api/v1/users/me").ShouldHaveStatusAsync(HttpStatusCode.OK);
        var received = CountOn(api.Second, "sliceapi.revocations.received");
        var sent = CountOn(api.Host, "sliceapi.revocations.sent");

        await api.ClientFor(admin).PatchAsJsonAsync($"/api/v1/users/{user.Id}", new { isActive = false }).ShouldHaveStatusAsync(HttpStatusCode.OK);

        await WithinASecondAsync(async () => (await onB.GetAsync("/api/v1/users/me")).Context.Response.StatusCode == 401);
        sent.Total.ShouldBe(1);
        received.Total.ShouldBeGreaterThanOrEqualTo(1);
    }

    [Fact]
    public async Task A_role_changed_on_one_instance_applies_on_the_other_within_a_second()
    {
        var user = await api.CreateUserAsync();
        var admin = await api.CreateUserAsync(AppRoles.Admin);
        var onB = api.SecondClientFor(user.AccessToken);
        await onB.PostAsJsonAsync("/api/v1/tasks", new { title = "Before" }).ShouldHaveStatusAsync(HttpStatusCode.Created);

        await api.ClientFor(admin).PatchAsJsonAsync($"/api/v1/users/{user.Id}", new { role = AppRoles.Guest }).ShouldHaveStatusAsync(HttpStatusCode.OK);

        await WithinASecondAsync(async () => (await onB.PostAsJsonAsync("/api/v1/tasks", new { title = "After" })).Context.Response.StatusCode == 403);
    }

    [Fact]
    public async Task A_password_changed_on_one_instance_ends_older_access_tokens_on_both()
    {
        var user = await api.CreateUserAsync();
        var onB = api.SecondClientFor(user.AccessToken);
        await onB.GetAsync("/api/v1/users/me").ShouldHaveStatusAsync(HttpStatusCode.OK);
        await Task.Delay(1100); // the token's iat is whole seconds: the change must fall in a later second

        await api.ClientFor(user).PostAsJsonAsync("/api/v1/users/me/password",
            new { currentPassword = AppFixture.Password, newPassword = "a newer and longer passphrase" }).ShouldHaveStatusAsync(HttpStatusCode.NoContent);

        await api.ClientFor(user).GetAsync("/api/v1/users/me").ShouldBeProblemAsync(HttpStatusCode.Unauthorized);
        await WithinASecondAsync(async () => (await onB.GetAsync("/api/v1/users/me")).Context.Response.StatusCode == 401);
        var login = await api.CreateAnonymousClient().PostAsJsonAsync("/api/v1/auth/login", new { email = user.Email, password = "a newer and longer passphrase" })
            .ShouldReturnAsync<TokenResponse>();
        await api.SecondClientFor(login.AccessToken).GetAsync("/api/v1/users/me").ShouldHaveStatusAsync(HttpStatusCode.OK);
    }

    [Fact]
    public async Task An_api_key_revoked_on_one_instance_is_refused_on_the_other_within_a_second()
    {
        var owner = await api.CreateUserAsync();
        var created = await api.ClientFor(owner).PostAsJsonAsync("/api/v1/api-keys", new { name = "ci", scopes = ReadScope })
            .ShouldReturnAsync<CreateApiKeyResponse>(HttpStatusCode.Created);
        var onB = new ScenarioClient(api.Second, s => s.WithRequestHeader("X-Api-Key", created.Key));
        await onB.GetAsync("/api/v1/tasks").ShouldHaveStatusAsync(HttpStatusCode.OK);

        await api.ClientFor(owner).DeleteAsync($"/api/v1/api-keys/{created.ApiKey.Id}").ShouldHaveStatusAsync(HttpStatusCode.NoContent);

        await WithinASecondAsync(async () => (await onB.GetAsync("/api/v1/tasks")).Context.Response.StatusCode == 401);
    }

    [Fact]
    public async Task A_refresh_token_family_revoked_on_one_instance_cannot_be_refreshed_on_the_other()
    {
        var user = await api.CreateUserAsync();
        var login = await api.CreateAnonymousClient().PostAsJsonAsync("/api/v1/auth/login", new { email = user.Email, password = AppFixture.Password })
            .ShouldReturnAsync<TokenResponse>();

        await api.CreateAnonymousClient().PostAsJsonAsync("/api/v1/auth/logout", new { refreshToken = login.RefreshToken }).ShouldHaveStatusAsync(HttpStatusCode.NoContent);

        await new ScenarioClient(api.Second).PostAsJsonAsync("/api/v1/auth/refresh", new { refreshToken = login.RefreshToken })
            .ShouldBeProblemAsync(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task A_listener_that_lost_its_connection_clears_its_caches_listens_again_and_still_hears_revocations()
    {
        var user = await api.CreateUserAsync();
        var admin = await api.CreateUserAsync(AppRoles.Admin);
        var onB = api.SecondClientFor(user.AccessToken);
        await onB.GetAsync("/api/v1/users/me").ShouldHaveStatusAsync(HttpStatusCode.OK);

        // Both instances' listening sessions are cut, as a failover or a network blip would.
        await using (var connection = new NpgsqlConnection(api.ConnectionString))
        {
            await connection.OpenAsync();
            await using var terminate = new NpgsqlCommand(
                $"SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN sliceapi%'", connection);
            ((long)(await terminate.ExecuteScalarAsync())!).ShouldBe(2);
        }

        await WithinAsync(TimeSpan.FromSeconds(10), () => Task.FromResult(
            api.Logs.Lines.Count(l => l.Message == "Listening for revocations again; caches were cleared") >= 2));
        api.Logs.Lines.Count(l => l.Level == LogLevel.Warning && l.Message.StartsWith("Not listening for revocations", StringComparison.Ordinal)).ShouldBeGreaterThanOrEqualTo(2);
        await onB.GetAsync("/api/v1/users/me").ShouldHaveStatusAsync(HttpStatusCode.OK);

        await api.ClientFor(admin).PatchAsJsonAsync($"/api/v1/users/{user.Id}", new { isActive = false }).ShouldHaveStatusAsync(HttpStatusCode.OK);

        await WithinASecondAsync(async () => (await onB.GetAsync("/api/v1/users/me")).Context.Response.StatusCode == 401);
    }

    private static Task WithinASecondAsync(Func<Task<bool>> condition) => WithinAsync(TimeSpan.FromSeconds(1), condition);

    private static async Task WithinAsync(TimeSpan limit, Func<Task<bool>> condition)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            clock.Elapsed.ShouldBeLessThan(limit, "the change did not arrive in time");
            await Task.Delay(20);
        }
    }

    private static MeasuredCounter CountOn(IAlbaHost host, string name) => new(host.Services.GetRequiredService<IMeterFactory>(), name);

    /// <summary>Sums one counter of one host's meters from now on.</summary>
    private sealed class MeasuredCounter : IDisposable
    {
        private readonly MeterListener listener = new();
        private long total;

        public MeasuredCounter(IMeterFactory scope, string name)
        {
            listener.InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Name == name && instrument.Meter.Scope == scope)
                {
                    l.EnableMeasurementEvents(instrument);
                }
            };
            listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref total, value));
            listener.Start();
        }

        public long Total => Interlocked.Read(ref total);

        public void Dispose() => listener.Dispose();
    }
}
