using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace SliceApi.Tests.Support;

/// <summary>
/// A <c>redis-server</c> process of a test class's own (Debian's <c>redis-server</c> package), on a free loopback
/// port, without persistence. <see cref="StopAsync"/> kills it and <see cref="StartAsync"/> starts it again on the same
/// port, so a test can take the store away from running app instances and give it back.
/// </summary>
public sealed class TestRedisServer : IAsyncDisposable
{
    private static readonly string[] Executables = ["/usr/bin/redis-server", "/usr/local/bin/redis-server"];
    private Process? process;

    private TestRedisServer(int port) => Port = port;

    /// <summary>The loopback port it listens on.</summary>
    public int Port { get; }

    /// <summary>The StackExchange.Redis configuration string of this server.</summary>
    public string Configuration => $"127.0.0.1:{Port}";

    /// <summary>Starts a server on a free port and waits until it answers PING.</summary>
    /// <exception cref="InvalidOperationException">redis-server is not installed or does not start.</exception>
    public static async Task<TestRedisServer> StartNewAsync()
    {
        var server = new TestRedisServer(FreePort());
        await server.StartAsync();
        return server;
    }

    /// <summary>(Re)starts the server on <see cref="Port"/> and waits until it answers PING.</summary>
    public async Task StartAsync()
    {
        var executable = Executables.FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException("redis-server is not installed (apt-get install redis-server); the shared rate-limit tests need it.");
        var start = new ProcessStartInfo(executable) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[] { "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no" })
        {
            start.ArgumentList.Add(argument);
        }

        process = Process.Start(start) ?? throw new InvalidOperationException("redis-server did not start.");
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!await AnswersPingAsync())
        {
            if (process.HasExited || DateTime.UtcNow > deadline)
            {
                throw new InvalidOperationException($"redis-server did not answer on port {Port}.");
            }

            await Task.Delay(50);
        }
    }

    /// <summary>Kills the server (SIGKILL), as a crash or a network partition would take it away.</summary>
    public async Task StopAsync()
    {
        if (process is { HasExited: false })
        {
            process.Kill();
            await process.WaitForExitAsync();
        }

        process?.Dispose();
        process = null;
    }

    public async ValueTask DisposeAsync() => await StopAsync();

    private async Task<bool> AnswersPingAsync()
    {
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync(IPAddress.Loopback, Port);
            var stream = client.GetStream();
            await stream.WriteAsync("PING\r\n"u8.ToArray());
            var buffer = new byte[16];
            var read = await stream.ReadAsync(buffer);
            return System.Text.Encoding.ASCII.GetString(buffer, 0, read).StartsWith("+PONG", StringComparison.Ordinal);
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
