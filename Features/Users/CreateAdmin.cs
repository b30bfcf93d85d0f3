using FluentValidation;
using Marten;
using SliceApi.Infrastructure.Cli;
using SliceApi.Infrastructure.Data;
using SliceApi.Infrastructure.Security;

namespace SliceApi.Features.Users;

/// <summary>
/// <c>dotnet run -- create-admin --email ada@example.com --password '...' [--display-name Ada]</c>:
/// creates an account with the role <c>admin</c>, or promotes an existing account with that email
/// (its password is then left unchanged). Email and password follow the registration rules.
/// </summary>
internal sealed class CreateAdminCommand : ICliCommand
{
    public string Name => "create-admin";

    public async Task<int> RunAsync(IReadOnlyList<string> arguments, IServiceProvider services, CancellationToken cancellationToken)
    {
        var options = ParseOptions(arguments);
        if (options is null || !options.TryGetValue("email", out var email) || !options.TryGetValue("password", out var password))
        {
            await Console.Error.WriteLineAsync("Usage: dotnet run -- create-admin --email <email> --password <password> [--display-name <name>]");
            return 2;
        }

        var request = new RegisterUserRequest { Email = email, Password = password, DisplayName = options.GetValueOrDefault("display-name") ?? "Administrator" };
        var validation = await new RegisterUserValidator().ValidateAsync(request, cancellationToken);
        if (!validation.IsValid)
        {
            foreach (var error in validation.Errors)
            {
                await Console.Error.WriteLineAsync(error.ErrorMessage);
            }

            return 2;
        }

        await using var scope = services.CreateAsyncScope();
        var session = scope.ServiceProvider.GetRequiredService<IDocumentSession>();
        var normalized = User.NormalizeEmail(email);
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
            return 0;
        }

        var user = new User
        {
            Id = Guid.CreateVersion7(),
            Email = normalized,
            DisplayName = request.DisplayName.Trim(),
            Role = AppRoles.Admin,
            CreatedAt = services.GetRequiredService<TimeProvider>().GetStoredUtcNow(),
        };
        user.PasswordHash = User.PasswordHasher.HashPassword(user, password);
        session.Insert(user);
        await session.SaveChangesAsync(cancellationToken);
        Console.WriteLine($"Created admin {normalized} ({user.Id}).");
        return 0;
    }

    /// <summary>Reads <c>--name value</c> pairs.</summary>
    /// <returns>The options by name without dashes; null when an option has no value.</returns>
    private static Dictionary<string, string>? ParseOptions(IReadOnlyList<string> arguments)
    {
        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < arguments.Count; i += 2)
        {
            if (!arguments[i].StartsWith("--", StringComparison.Ordinal) || i + 1 >= arguments.Count)
            {
                return null;
            }

            options[arguments[i][2..]] = arguments[i + 1];
        }

        return options;
    }
}
