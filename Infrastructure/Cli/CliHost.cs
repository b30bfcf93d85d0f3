using JasperFx;
using Microsoft.Extensions.Options;
using SliceApi.Infrastructure.Data;

namespace SliceApi.Infrastructure.Cli;

/// <summary>Runs a command of JasperFx's command line when the arguments name one, otherwise serves HTTP.</summary>
internal static class CliHost
{
    /// <summary>
    /// Runs the web host, or, when <c>args[0]</c> is a command name rather than a flag such as <c>--urls</c>, that command
    /// through JasperFx's command line: Marten's <c>db-patch</c>, <c>db-assert</c>, <c>db-dump</c>, <c>help</c>, and the
    /// app's own (<c>migrate</c>, <c>create-admin</c>), each given the built host. Invalid settings (options validated on
    /// start) or a database that cannot be reached end the process with one clear message on stderr and exit code 1.
    /// </summary>
    /// <param name="app">The built application.</param>
    /// <param name="args">The command line.</param>
    /// <param name="mapEndpoints">
    /// Maps the API's endpoints once the database is resolved: FastEndpoints builds each endpoint once while mapping it,
    /// with its constructor dependencies (the document store among them), which need the connection.
    /// </param>
    /// <returns>The process exit code: 0 on success, 1 on failure.</returns>
    public static async Task<int> RunCommandOrServeAsync(this WebApplication app, string[] args, Action<WebApplication> mapEndpoints)
    {
        try
        {
            await using (app)
            {
                // Checked before the host starts, so bad settings or an unreachable database are one line on stderr, not a hosting stack trace.
                app.Services.GetRequiredService<IStartupValidator>().Validate();
                await app.Services.GetRequiredService<PostgresConnectionSource>().ResolveAsync(CancellationToken.None);
                mapEndpoints(app);
                if (args is [{ } first, ..] && !first.StartsWith('-'))
                {
                    return await app.RunJasperFxCommands(args);
                }

                await app.RunAsync();
                return 0;
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
}
