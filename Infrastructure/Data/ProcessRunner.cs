using System.Diagnostics;

namespace SliceApi.Infrastructure.Data;

/// <summary>Runs a command line and fails with its output when it exits non-zero.</summary>
internal static class ProcessRunner
{
    /// <summary>Runs <paramref name="file"/> with <paramref name="arguments"/>; returns the exit code when it is in <paramref name="acceptedExitCodes"/>.</summary>
    /// <exception cref="InvalidOperationException">The program could not be started, or exited with any other code; the message holds its stderr and stdout.</exception>
    public static async Task<int> RunAsync(string file, IEnumerable<string> arguments, CancellationToken cancellationToken, params int[] acceptedExitCodes)
    {
        var start = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        Process? started;
        try
        {
            started = Process.Start(start);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException($"Could not run '{file}': {e.Message}", e);
        }

        using var process = started ?? throw new InvalidOperationException($"Could not run '{file}'.");
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        var exitCode = process.ExitCode;
        if (exitCode == 0 || acceptedExitCodes.Contains(exitCode))
        {
            return exitCode;
        }

        throw new InvalidOperationException(
            $"'{file} {string.Join(' ', start.ArgumentList)}' exited with {exitCode}: {(await stderr).Trim()} {(await stdout).Trim()}");
    }
}
