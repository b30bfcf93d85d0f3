using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Npgsql;
using SliceApi.Infrastructure.Data;
using SliceApi.Infrastructure.Security;
using SliceApi.Tests.Support;

namespace SliceApi.Tests.Infrastructure;

/// <summary>A host configured with the given signing key (null: none at all).</summary>
public sealed class KeyedApiFactory(string? signingKey) : ApiFactory
{
    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.UseSetting("Jwt:SigningKey", signingKey ?? string.Empty);
    }
}

public sealed class StartupTests
{
    [Theory]
    [InlineData(null)]
    [InlineData("too-short-key-of-31-bytes------")]
    [InlineData(JwtOptions.DevelopmentKey)]
    public async Task Start_up_outside_development_fails_with_a_clear_message_when_the_signing_key_is_unfit(string? key)
    {
        await using var factory = new KeyedApiFactory(key);
        await factory.InitializeAsync();

        var error = Should.Throw<Exception>(() => factory.CreateClient());

        error.ToString().ShouldContain("Jwt:SigningKey");
    }

    [Fact]
    public async Task Start_up_succeeds_with_a_32_byte_key()
    {
        await using var factory = new KeyedApiFactory(new string('k', 32));
        await factory.InitializeAsync();

        (await factory.CreateClient().GetAsync("/health/live")).IsSuccessStatusCode.ShouldBeTrue();
    }

    [Fact]
    public async Task An_unreachable_configured_server_gives_one_message_saying_what_to_check()
    {
        var connectionString = new NpgsqlConnectionStringBuilder { Host = "127.0.0.1", Port = 1, Username = "nobody", Password = "hunter2-secret", Database = "x", Timeout = 2 }.ConnectionString;
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["ConnectionStrings:Postgres"] = connectionString })
            .Build();
        await using var source = new PostgresConnectionSource(
            configuration,
            Microsoft.Extensions.Options.Options.Create(new DatabaseOptions()),
            new Microsoft.Extensions.Hosting.Internal.HostingEnvironment { ContentRootPath = Path.GetTempPath() },
            Microsoft.Extensions.Logging.Abstractions.NullLogger<PostgresConnectionSource>.Instance);

        var error = await Should.ThrowAsync<DatabaseUnavailableException>(() => source.ResolveAsync(CancellationToken.None));

        error.Message.ShouldContain("Could not connect to PostgreSQL at Host=127.0.0.1;Port=1");
        error.Message.ShouldContain("ConnectionStrings__Postgres");
        error.Message.ShouldNotContain("hunter2-secret");
    }
}
