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

/// <summary>
/// What a replicated database's failover looks like to Npgsql, on real PostgreSQL: a multi-host connection string whose
/// <c>Target Session Attributes</c> no reachable host matches (here <c>standby</c> against a primary, as <c>primary</c>
/// against a standby not yet promoted) counts as the database being unreachable, so requests get 503 with Retry-After,
/// not 500; a server that answers with an error does not.
/// </summary>
public sealed class FailoverExceptionTests
{
    [Fact]
    public async Task No_host_of_the_kind_asked_for_is_unreachable_with_or_without_a_host_that_refused()
    {
        var connectionString = await TestDatabaseServer.Current.CreateEmptyDatabaseAsync();
        try
        {
            var server = new Npgsql.NpgsqlConnectionStringBuilder(connectionString);
            var wrongKind = new Npgsql.NpgsqlConnectionStringBuilder(connectionString)
            {
                Host = $"{server.Host}:{server.Port},{server.Host}:{server.Port}", TargetSessionAttributes = "standby", Pooling = false,
            };
            var noneSuitable = await OpenFailsAsync(wrongKind.ConnectionString);
            noneSuitable.InnerException.ShouldBeNull("every host answered, none of the kind asked for");
            DatabaseOutage.IsUnreachable(noneSuitable).ShouldBeTrue();

            var refusing = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
            refusing.Start();
            var closedPort = ((IPEndPoint)refusing.LocalEndpoint).Port;
            refusing.Stop();
            var withLostHost = new Npgsql.NpgsqlConnectionStringBuilder(connectionString)
            {
                Host = $"127.0.0.1:{closedPort},{server.Host}:{server.Port}", TargetSessionAttributes = "standby", Pooling = false,
            };
            var lostAndWrongKind = await OpenFailsAsync(withLostHost.ConnectionString);
            lostAndWrongKind.InnerException.ShouldBeOfType<AggregateException>();
            DatabaseOutage.IsUnreachable(lostAndWrongKind).ShouldBeTrue();

            await using var connection = new Npgsql.NpgsqlConnection(connectionString);
            await connection.OpenAsync(TestContext.Current.CancellationToken);
            await using var wrong = new Npgsql.NpgsqlCommand("select * from no_such_table", connection);
            var answered = await Should.ThrowAsync<Npgsql.PostgresException>(() => wrong.ExecuteScalarAsync(TestContext.Current.CancellationToken));
            DatabaseOutage.IsUnreachable(answered).ShouldBeFalse();
        }
        finally
        {
            await TestDatabaseServer.Current.DropDatabaseAsync(connectionString);
        }
    }

    private static async Task<Npgsql.NpgsqlException> OpenFailsAsync(string connectionString)
    {
        await using var connection = new Npgsql.NpgsqlConnection(connectionString);
        return await Should.ThrowAsync<Npgsql.NpgsqlException>(() => connection.OpenAsync(TestContext.Current.CancellationToken));
    }
}
