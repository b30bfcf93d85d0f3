using System.Net;
using Microsoft.Extensions.DependencyInjection;
using SliceApi.Infrastructure.Data;
using SliceApi.Tests.Support;

namespace SliceApi.Tests.Infrastructure;

/// <summary>
/// A host on a PostgreSQL cluster of its own, so a test can stop the server under it. The database
/// does not exist beforehand: the app creates and migrates it at start-up.
/// </summary>
public sealed class OutageFixture : AppFixture
{
    private readonly string root = Path.Combine(Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath(), $"sliceapi-outage-{Guid.NewGuid():N}"[..24]);

    public LocalPostgresCluster? Cluster { get; private set; }

    protected override async Task<string> CreateDatabaseAsync()
    {
        Cluster = await LocalPostgresCluster.StartAsync(root, durable: false, CancellationToken.None);
        return Cluster.ConnectionString("sliceapi_outage");
    }

    protected override async Task DropDatabaseAsync()
    {
        await Cluster!.DisposeAsync();
        Directory.Delete(root, recursive: true);
    }
}

public sealed class DatabaseOutageTests(OutageFixture api) : IClassFixture<OutageFixture>
{
    [Fact]
    public async Task The_app_creates_and_migrates_a_missing_database_then_answers_503_when_the_server_goes_away()
    {
        var client = api.CreateAnonymousClient();
        await client.GetAsync("/health/ready").ShouldHaveStatusAsync(HttpStatusCode.OK);
        await client.PostAsJsonAsync("/api/v1/users", new { email = "before@example.com", password = "a long enough passphrase", displayName = "B" })
            .ShouldHaveStatusAsync(HttpStatusCode.Created);

        await api.Cluster!.DisposeAsync(); // stops the server

        var during = await client.PostAsJsonAsync("/api/v1/users", new { email = "during@example.com", password = "a long enough passphrase", displayName = "D" });
        var problem = await during.ShouldBeProblemAsync(HttpStatusCode.ServiceUnavailable);
        problem.GetRawText().ShouldNotContain("Npgsql");
        during.Header("Retry-After").ShouldBe([DatabaseOutage.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        // Login reads documents first (the lockout count), so this is the document session's failure path.
        (await client.PostAsJsonAsync("/api/v1/auth/login", new { email = "before@example.com", password = "a long enough passphrase" })
            .ShouldBeProblemAsync(HttpStatusCode.ServiceUnavailable)).GetRawText().ShouldNotContain("Marten");
        await client.GetAsync("/health/ready").ShouldHaveStatusAsync(HttpStatusCode.ServiceUnavailable);
        await client.GetAsync("/health/live").ShouldHaveStatusAsync(HttpStatusCode.OK);
        api.Services.GetRequiredService<DatabaseOutage>().IsDown.ShouldBeTrue();
    }
}
