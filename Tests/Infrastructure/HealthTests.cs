using System.Net;
using Microsoft.AspNetCore.Hosting;
using SliceApi.Tests.Support;

namespace SliceApi.Tests.Infrastructure;

public sealed class HealthTests(AppFixture api) : IClassFixture<AppFixture>
{
    [Theory]
    [InlineData("/health/live")]
    [InlineData("/health/ready")]
    public async Task Health_endpoints_answer_200_anonymously_when_the_database_is_migrated(string path)
    {
        var response = await api.CreateAnonymousClient().GetAsync(path).ShouldHaveStatusAsync(HttpStatusCode.OK);

        (await response.ReadAsTextAsync()).ShouldBe("Healthy");
    }
}

/// <summary>A host on an empty database with the start-up schema step turned off.</summary>
public sealed class UnmigratedFixture : AppFixture
{
    protected override Task<string> CreateDatabaseAsync() => TestDatabaseServer.Current.CreateEmptyDatabaseAsync();

    protected override void ConfigureHost(IWebHostBuilder builder)
    {
        builder.UseSetting("Database:MigrateOnStartup", "false");
    }
}

public sealed class UnmigratedHealthTests(UnmigratedFixture api) : IClassFixture<UnmigratedFixture>
{
    [Fact]
    public async Task Ready_is_503_while_schema_changes_are_pending_and_live_stays_200()
    {
        var client = api.CreateAnonymousClient();

        await client.GetAsync("/health/live").ShouldHaveStatusAsync(HttpStatusCode.OK);
        var ready = await client.GetAsync("/health/ready").ShouldHaveStatusAsync(HttpStatusCode.ServiceUnavailable);
        (await ready.ReadAsTextAsync()).ShouldBe("Unhealthy");
    }
}
