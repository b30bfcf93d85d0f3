using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace SliceApi.Tests.Support;

/// <summary>One POST a <see cref="WebhookReceiver"/> got.</summary>
/// <param name="Headers">Its headers.</param>
/// <param name="Body">Its body as text.</param>
/// <param name="Answered">The status the receiver answered.</param>
public sealed record ReceivedWebhook(IHeaderDictionary Headers, string Body, int Answered)
{
    /// <summary>The <c>webhook-id</c> header.</summary>
    public string Id => Headers["webhook-id"].ToString();
}

/// <summary>
/// A real HTTP server on a loopback port (Kestrel) that records the webhook POSTs it gets under <c>/hooks/{name}</c> and
/// answers each with the status its script gives for that name's attempt number (1, 2, ...; default 204).
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication app;
    private readonly ConcurrentDictionary<string, ConcurrentQueue<ReceivedWebhook>> received = new();
    private readonly ConcurrentDictionary<string, Func<int, int>> scripts = new();

    private WebhookReceiver(WebApplication app) => this.app = app;

    /// <summary>The server's base address, e.g. <c>http://127.0.0.1:40123</c>.</summary>
    public string BaseAddress => app.Urls.First();

    /// <summary>Starts a receiver on a free loopback port.</summary>
    public static async Task<WebhookReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        WebhookReceiver? receiver = null;
        var app = builder.Build();
        app.MapPost("/hooks/{name}", async (string name, HttpRequest request) =>
        {
            using var reader = new StreamReader(request.Body);
            var body = await reader.ReadToEndAsync();
            var queue = receiver!.received.GetOrAdd(name, _ => new ConcurrentQueue<ReceivedWebhook>());
            var status = receiver.scripts.TryGetValue(name, out var script) ? script(queue.Count + 1) : 204;
            queue.Enqueue(new ReceivedWebhook(new HeaderDictionary(request.Headers.ToDictionary(h => h.Key, h => h.Value)), body, status));
            return Results.StatusCode(status);
        });
        receiver = new WebhookReceiver(app);
        await app.StartAsync();
        return receiver;
    }

    /// <summary>The URL of <paramref name="name"/>'s hook, answering per <paramref name="script"/> (attempt number to status).</summary>
    public string Url(string name, Func<int, int>? script = null)
    {
        if (script is not null)
        {
            scripts[name] = script;
        }

        return $"{BaseAddress}/hooks/{name}";
    }

    /// <summary>What <paramref name="name"/>'s hook got so far, in order.</summary>
    public IReadOnlyList<ReceivedWebhook> Received(string name) => received.TryGetValue(name, out var queue) ? [.. queue] : [];

    /// <summary>Waits until <paramref name="name"/>'s hook got <paramref name="count"/> POSTs (fails after <paramref name="seconds"/>).</summary>
    public async Task<IReadOnlyList<ReceivedWebhook>> WaitForAsync(string name, int count, int seconds = 20)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (Received(name).Count < count)
        {
            DateTime.UtcNow.ShouldBeLessThan(deadline, $"hook {name} got {Received(name).Count} of {count} POSTs");
            await Task.Delay(25);
        }

        return Received(name);
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }
}

/// <summary>An app whose webhooks may reach loopback receivers, retried after 1 s and 1 s (3 attempts), looked for every 100 ms.</summary>
public sealed class WebhookFixture : AppFixture
{
    protected override void ConfigureHost(IWebHostBuilder builder)
    {
        builder.UseSetting("Webhooks:AllowPrivateNetworks", "true");
        builder.UseSetting("Webhooks:RetryDelaysSeconds:0", "1");
        builder.UseSetting("Webhooks:RetryDelaysSeconds:1", "1");
        builder.UseSetting("Webhooks:PollMilliseconds", "100");
    }
}
