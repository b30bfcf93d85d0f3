using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace SliceApi.Tests.Support;

/// <summary>The built API (<c>dotnet SliceApi.dll</c>) as a real process, started as an operator would start it.</summary>
public static class AppProcess
{
    /// <summary>The environment of a production start against <paramref name="connectionString"/> over plain HTTP.</summary>
    public static Dictionary<string, string> ProductionEnvironment(string connectionString) => new()
    {
        ["ASPNETCORE_ENVIRONMENT"] = "Production",
        ["Jwt__SigningKey"] = new string('k', 48),
        ["ConnectionStrings__Postgres"] = connectionString,
        ["Http__RequireHttps"] = "false",
    };

    /// <summary>Runs the API with <paramref name="arguments"/> (a CLI command, or none to serve) until it exits (60 s at most).</summary>
    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(Dictionary<string, string> environment, params string[] arguments)
    {
        using var process = Start(environment, arguments.Length == 0 ? ["--urls", "http://127.0.0.1:0"] : arguments);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        return (process.ExitCode, await stdout, await stderr);
    }

    /// <summary>Starts the API serving on a free loopback port; the caller kills it.</summary>
    /// <returns>The process and its base address.</returns>
    public static (Process Process, Uri BaseAddress) Serve(Dictionary<string, string> environment)
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        var address = new Uri($"http://127.0.0.1:{port}");
        var process = Start(environment, ["--urls", address.ToString()]);
        _ = process.StandardOutput.ReadToEndAsync();
        _ = process.StandardError.ReadToEndAsync();
        return (process, address);
    }

    private static Process Start(Dictionary<string, string> environment, string[] arguments)
    {
        // The app's own build output (bin/<configuration>/<framework> beside SliceApi.csproj), not this folder: JasperFx's command
        // line loads every assembly beside the app, and the test assemblies here need xunit, which the app's dependencies lack.
        var tests = Path.GetDirectoryName(typeof(AppProcess).Assembly.Location)!;
        var dll = Path.GetFullPath(Path.Combine(tests, "..", "..", "..", "..", "bin", Path.GetFileName(Path.GetDirectoryName(tests))!, Path.GetFileName(tests), "SliceApi.dll"));
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = Path.GetDirectoryName(dll)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.ArgumentList.Add(dll);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        return Process.Start(start)!;
    }
}
