using System.Reflection;
using Microsoft.Extensions.Options;
using SliceApi.Infrastructure.Data;

namespace SliceApi.Infrastructure.Cli;

/// <summary>
/// A command run with <c>dotnet run -- &lt;name&gt; [options]</c> instead of serving HTTP, using the
/// app's configuration and services (found by reflection, like endpoints).
/// </summary>
internal interface ICliCommand
{
    /// <summary>The first command-line argument that selects this command, e.g. <c>migrate</c>.</summary>
    string Name { get; }

    /// <summary>Runs the command with the arguments after its name.</summary>
    /// <returns>The process exit code: 0 on success, 2 for bad arguments, 1 for other failures.</returns>
    Task<int> RunAsync(IReadOnlyList<string> arguments, IServiceProvider services, CancellationToken cancellationToken);
}

/// <summary>Runs a CLI command when the arguments name one, otherwise serves HTTP.</summary>
internal static class CliHost
{
    /// <summary>
    /// Runs the command named by <c>args[0]</c>, or the web host when there is none. Invalid settings
    /// (options validated on start) or a database that cannot be reached end the process with one
    /// clear message on stderr and exit code 1.
    /// </summary>
    /// <param name="app">The built application.</param>
    /// <param name="args">The command line.</param>
    /// <param name="mapEndpoints">
    /// Maps the API's endpoints once the database is resolved: FastEndpoints builds each endpoint once while mapping it,
    /// with its constructor dependencies (the document store among them), which need the connection.
    /// </param>
    /// <returns>The process exit code.</returns>
    public static async Task<int> RunCommandOrServeAsync(this WebApplication app, string[] args, Action<WebApplication> mapEndpoints)
    {
        try
        {
            var command = args.Length == 0 ? null : FindCommand(args[0]);
            await using (app)
            {
                // Checked before the host starts, so bad settings or an unreachable database are one line on stderr, not a hosting stack trace.
                app.Services.GetRequiredService<IStartupValidator>().Validate();
                await app.Services.GetRequiredService<PostgresConnectionSource>().ResolveAsync(CancellationToken.None);
                mapEndpoints(app);
                if (command is null)
                {
                    await app.RunAsync();
                    return 0;
                }

                return await command.RunAsync(args[1..], app.Services, CancellationToken.None);
            }
        }
        catch (DatabaseUnavailableException e)
        {
            await Console.Error.WriteLineAsync($"SliceApi cannot start: {e.Message}");
            return 1;
        }
        catch (Weasel.Core.Migrations.DatabaseValidationException e)
        {
            await Console.Error.WriteLineAsync(
                $"SliceApi cannot start: the database schema lacks what the document mappings need (Database:VerifySchemaOnStartup). {e.InnerException?.Message} " +
                "Apply the changes with 'dotnet SliceApi.dll migrate', or write them for review with 'dotnet SliceApi.dll db-patch <file>'.");
            return 1;
        }
        catch (OptionsValidationException e)
        {
            await Console.Error.WriteLineAsync($"SliceApi cannot start: {string.Join(" ", e.Failures)}");
            return 1;
        }
    }

    private static ICliCommand? FindCommand(string name) =>
        Assembly.GetExecutingAssembly().GetTypes()
            .Where(t => t is { IsAbstract: false, IsInterface: false } && typeof(ICliCommand).IsAssignableFrom(t))
            .Select(t => (ICliCommand)Activator.CreateInstance(t)!)
            .FirstOrDefault(c => c.Name == name);
}
