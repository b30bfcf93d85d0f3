using System.Net;
using SliceApi.Features.Auth;
using SliceApi.Features.Users;
using SliceApi.Tests.Support;

namespace SliceApi.Tests.Features.Users;

public sealed class CreateAdminTests(AppFixture api) : IClassFixture<AppFixture>
{
    [Fact]
    public async Task Create_admin_command_creates_an_admin_who_can_log_in_and_read_any_task()
    {
        var email = $"root-{Guid.NewGuid():N}@example.com";
        var task = await api.CreateTaskAsync((await api.CreateUserAsync()).Id, "Someone's");

        var succeeded = await RunAsync("--email", email, "--password", "an admin passphrase");

        succeeded.ShouldBeTrue();
        (await api.FindDocumentsAsync<User>(u => u.Email == email)).ShouldHaveSingleItem().Role.ShouldBe("admin");
        var client = api.CreateAnonymousClient();
        var login = await client.PostAsJsonAsync("/api/v1/auth/login", new { email, password = "an admin passphrase" }).ShouldReturnAsync<TokenResponse>();
        client = api.CreateBearerClient(login.AccessToken);
        await client.GetAsync($"/api/v1/tasks/{task.Id}").ShouldHaveStatusAsync(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Create_admin_command_promotes_an_existing_account_and_keeps_its_password()
    {
        var user = await api.CreateUserAsync();

        (await RunAsync("--email", user.Email, "--password", "a different passphrase")).ShouldBeTrue();

        var stored = (await api.FindDocumentsAsync<User>(u => u.Id == user.Id)).ShouldHaveSingleItem();
        stored.Role.ShouldBe("admin");
        await api.CreateAnonymousClient().PostAsJsonAsync("/api/v1/auth/login", new { email = user.Email, password = user.Password }).ShouldHaveStatusAsync(HttpStatusCode.OK);
    }

    [Fact]
    public async Task A_promotion_reaches_the_access_tokens_the_account_already_holds_within_seconds()
    {
        var user = await api.CreateUserAsync();
        var client = api.ClientFor(user);
        await client.GetAsync("/api/v1/users").ShouldBeProblemAsync(HttpStatusCode.Forbidden); // the account's status is now cached

        (await RunAsync("--email", user.Email, "--password", "a different passphrase")).ShouldBeTrue();

        // The promotion's revocation message clears the cached status (it would otherwise stand for 30 s).
        var status = HttpStatusCode.Forbidden;
        for (var clock = System.Diagnostics.Stopwatch.StartNew(); status != HttpStatusCode.OK && clock.Elapsed < TimeSpan.FromSeconds(5); await Task.Delay(100))
        {
            status = (await client.GetAsync("/api/v1/users")).StatusCode();
        }

        status.ShouldBe(HttpStatusCode.OK);
    }

    [Theory]
    [InlineData("--email", "x@example.com")]
    [InlineData("--email", "not-an-email", "--password", "an admin passphrase")]
    [InlineData("--email", "short@example.com", "--password", "short")]
    public async Task Create_admin_command_with_bad_arguments_fails_and_stores_nothing(params string[] arguments)
    {
        var before = (await api.FindDocumentsAsync<User>(_ => true)).Count;

        (await RunAsync(arguments)).ShouldBeFalse();

        ((await api.FindDocumentsAsync<User>(_ => true)).Count).ShouldBe(before);
    }

    // The arguments parsed by JasperFx's command line as `dotnet SliceApi.dll create-admin ...` does, run on the test host.
    private async Task<bool> RunAsync(params string[] arguments)
    {
        var commands = new JasperFx.CommandLine.CommandFactory();
        commands.RegisterCommand<CreateAdminCommand>();
        var run = commands.BuildRun(["create-admin", .. arguments]);
        run.Command.ShouldBeOfType<CreateAdminCommand>();
        return await CreateAdminCommand.RunAsync((CreateAdminInput)run.Input, api.Services, CancellationToken.None);
    }
}
