using FluentValidation;
using Marten;
using JasperFx.CommandLine;
using SliceApi.Infrastructure.Data;
using SliceApi.Infrastructure.Security;

namespace SliceApi.Features.Users;

/// <summary>The flags of <see cref="CreateAdminCommand"/>.</summary>
public sealed class CreateAdminInput : NetCoreInput
{
    /// <summary>The account's email (<c>--email</c>, required).</summary>
    [Description("The account's email")]
    public string? EmailFlag { get; set; }

    /// <summary>The password of a new account (<c>--password</c>, required; left unchanged when the account exists).</summary>
    [Description("The password of a new account")]
    public string? PasswordFlag { get; set; }

    /// <summary>The display name of a new account (<c>--display-name</c>, default Administrator).</summary>
    [Description("The display name of a new account")]
    public string DisplayNameFlag { get; set; } = "Administrator";
}

/// <summary>
/// <c>dotnet run -- create-admin --email ada@example.com --password '...' [--display-name Ada]</c>:
/// creates an account with the role <c>admin</c>, or promotes an existing account with that email
/// (its password is then left unchanged). Email and password follow the registration rules; exit code 1
/// with the rule broken on stderr otherwise.
/// </summary>
[Description("Create an admin account, or promote an existing one", Name = "create-admin")]
public sealed class CreateAdminCommand : JasperFxAsyncCommand<CreateAdminInput>
{
    /// <summary>Runs the command on the host JasperFx built (the app's).</summary>
    public override Task<bool> Execute(CreateAdminInput input) => RunAsync(input, input.BuildHost().Services, CancellationToken.None);

    /// <summary>Creates or promotes the account with <paramref name="services"/>; false when the flags break a rule.</summary>
    public static async Task<bool> RunAsync(CreateAdminInput input, IServiceProvider services, CancellationToken cancellationToken)
    {
        var request = new RegisterUserRequest { Email = input.EmailFlag!, Password = input.PasswordFlag!, DisplayName = input.DisplayNameFlag };
        var validation = await new RegisterUserValidator().ValidateAsync(request, cancellationToken);
        if (!validation.IsValid)
        {
            foreach (var error in validation.Errors)
            {
                await Console.Error.WriteLineAsync(error.ErrorMessage);
            }

            return false;
        }

        await using var scope = services.CreateAsyncScope();
        var session = scope.ServiceProvider.GetRequiredService<IDocumentSession>();
        var normalized = User.NormalizeEmail(request.Email);
        var found = await session.Query<User>().FirstOrDefaultAsync(u => u.Email == normalized, cancellationToken);
        // Re-read locked, so a change of the account made meanwhile (a new password) is kept.
        if (found is not null && await session.LoadForUpdateAsync<User>(found.Id, cancellationToken) is { } existing)
        {
            existing.Role = AppRoles.Admin;
            session.Update(existing);
            // Every instance forgets what it cached of the account, as for a role change through the API.
            services.GetRequiredService<Revocations>().Queue(session, Revocations.Account, existing.Id.ToString());
            await session.SaveChangesAsync(cancellationToken);
            Console.WriteLine($"Promoted {normalized} ({existing.Id}) to admin; the password is unchanged.");
            return true;
        }

        var user = new User
        {
            Id = Guid.CreateVersion7(),
            Email = normalized,
            DisplayName = request.DisplayName.Trim(),
            Role = AppRoles.Admin,
            CreatedAt = services.GetRequiredService<TimeProvider>().GetStoredUtcNow(),
        };
        user.PasswordHash = User.PasswordHasher.HashPassword(user, request.Password);
        session.Insert(user);
        await session.SaveChangesAsync(cancellationToken);
        Console.WriteLine($"Created admin {normalized} ({user.Id}).");
        return true;
    }
}
