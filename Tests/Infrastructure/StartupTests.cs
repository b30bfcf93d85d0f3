using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Npgsql;
using SliceApi.Infrastructure.Data;
using SliceApi.Infrastructure.Security;
using SliceApi.Tests.Support;

namespace SliceApi.Tests.Infrastructure;

/// <summary>A host configured with the given signing key (null: none at all).</summary>
public sealed class KeyedFixture(string? signingKey) : AppFixture
{
    protected override void ConfigureHost(IWebHostBuilder builder)
    {
        builder.UseSetting("Jwt:SigningKey", signingKey ?? string.Empty);
    }
}

[Trait("Category", "Slow")] // starts app processes: left out of the edit-test loop (--filter "Category!=Slow")
public sealed class StartupTests
{
    [Theory]
    [InlineData("")]
    [InlineData("too-short-key-of-31-bytes------")]
    [InlineData(JwtOptions.DevelopmentKey)]
    public async Task Start_up_outside_development_stops_with_one_clear_line_when_the_signing_key_is_unfit(string key)
    {
        var connectionString = await TestDatabaseServer.Current.CreateMigratedDatabaseAsync();
        try
        {
            var (exitCode, stdout, stderr) = await AppProcess.RunAsync(new()
            {
                ["ASPNETCORE_ENVIRONMENT"] = "Production",
                ["Jwt__SigningKey"] = key,
                ["ConnectionStrings__Postgres"] = connectionString,
            });

            exitCode.ShouldBe(1, stdout + stderr);
            stderr.Trim().ShouldStartWith("SliceApi cannot start: Jwt:SigningKey");
            stderr.Trim().Split('\n').Length.ShouldBe(1, stderr);
        }
        finally
        {
            await TestDatabaseServer.Current.DropDatabaseAsync(connectionString);
        }
    }

    [Fact]
    public async Task Start_up_with_an_unreachable_server_stops_with_one_clear_line()
    {
        var (exitCode, stdout, stderr) = await AppProcess.RunAsync(new()
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            ["Jwt__SigningKey"] = new string('k', 48),
            ["ConnectionStrings__Postgres"] = "Host=127.0.0.1;Port=1;Username=nobody;Password=hunter2-secret;Database=x;Timeout=2",
        });

        exitCode.ShouldBe(1, stdout + stderr);
        stderr.Trim().ShouldStartWith("SliceApi cannot start: Could not connect to PostgreSQL at Host=127.0.0.1;Port=1");
        stderr.ShouldNotContain("hunter2-secret");
        stderr.Trim().Split('\n').Length.ShouldBe(1, stderr);
    }

    [Fact]
    public async Task Start_up_succeeds_with_a_32_byte_key()
    {
        await using var factory = new KeyedFixture(new string('k', 32));
        await factory.InitializeAsync();

        (await factory.CreateAnonymousClient().GetAsync("/health/live")).StatusCode().ShouldBe(System.Net.HttpStatusCode.OK);
    }
}
