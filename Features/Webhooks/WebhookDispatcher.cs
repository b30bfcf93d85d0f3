using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Marten;
using Microsoft.Extensions.Options;
using Npgsql;
using SliceApi.Infrastructure.Data;
using SliceApi.Infrastructure.Telemetry;

namespace SliceApi.Features.Webhooks;

/// <summary>Registers webhooks: settings, secrets, the HTTP client that refuses non-public addresses, and the dispatcher.</summary>
internal static class WebhookSetup
{
    /// <summary>The named <see cref="HttpClient"/> of deliveries.</summary>
    public const string Client = "webhooks";

    /// <summary>
    /// Binds and validates <see cref="WebhookOptions"/>; adds <see cref="WebhookSecrets"/>, the <c>webhooks</c> HTTP client
    /// (no redirects, no cookies; every address it connects to checked by <see cref="WebhookAddresses"/>) and
    /// <see cref="WebhookDispatcher"/>.
    /// </summary>
    public static IServiceCollection AddWebhooks(this IServiceCollection services)
    {
        services.AddOptions<WebhookOptions>().BindConfiguration(WebhookOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<WebhookSecrets>();
        services.AddSingleton<SliceApi.Features.Changes.ITaskEventConsumer, WebhookFanOut>();
        services.AddHttpClient(Client, client => client.DefaultRequestHeaders.UserAgent.ParseAdd("SliceApi-Webhooks/1"))
            .ConfigurePrimaryHttpMessageHandler(provider =>
            {
                var options = provider.GetRequiredService<IOptions<WebhookOptions>>();
                return new SocketsHttpHandler
                {
                    AllowAutoRedirect = false, // a redirect could lead anywhere, a private address included
                    UseCookies = false,
                    PooledConnectionLifetime = TimeSpan.FromMinutes(2),
                    ConnectCallback = (context, ct) => ConnectAsync(context, options.Value.AllowPrivateNetworks, ct),
                };
            });
        services.AddSingleton<WebhookDispatcher>();
        services.AddHostedService(provider => provider.GetRequiredService<WebhookDispatcher>());
        return services;
    }

    // Resolves the host itself and connects only to addresses a webhook may reach, so a name that resolves to a private
    // address at delivery time (DNS rebinding) is refused like one that did at registration.
    private static async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, bool allowPrivateNetworks, CancellationToken ct)
    {
        var host = context.DnsEndPoint.Host;
        var addresses = IPAddress.TryParse(host.Trim('[', ']'), out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host, ct);
        var allowed = addresses.Where(a => allowPrivateNetworks || !WebhookAddresses.IsNonPublic(a)).ToArray();
        if (allowed.Length == 0)
        {
            throw new HttpRequestException($"{host} resolves to no address a webhook may reach.");
        }

        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(allowed, context.DnsEndPoint.Port, ct);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}

/// <summary>
/// Sends due webhook deliveries from one instance at a time: every instance tries for a PostgreSQL session advisory
/// lock; the one that holds it is the delivering node until its connection ends (a killed instance's lock is released
/// by PostgreSQL when its connection drops, and another instance takes over within a second, resending what was in
/// flight, under the same <c>webhook-id</c>). Each attempt is POSTed with the Standard Webhooks headers, a
/// <see cref="WebhookOptions.TimeoutSeconds"/> timeout, and recorded; a failed one is retried per
/// <see cref="WebhookOptions.RetryDelaysSeconds"/>, and when the last fails the endpoint is disabled with the reason.
/// Each attempt adds 1 to the counter <c>sliceapi.webhooks.attempts</c> (meter <c>SliceApi</c>, tag <c>result</c>:
/// <c>succeeded</c> or <c>failed</c>), which the alert <c>SliceApiWebhookDeliveriesFailing</c> watches.
/// </summary>
internal sealed partial class WebhookDispatcher(
    IDocumentStore store, NpgsqlDataSource database, IHttpClientFactory clients, WebhookSecrets secrets, IOptions<WebhookOptions> options,
    TimeProvider clock, ILogger<WebhookDispatcher> logger, IMeterFactory meters) : BackgroundService
{
    private readonly Counter<long> attempts = meters.ApiCounter(
        "sliceapi.webhooks.attempts", "{attempt}", "Webhook delivery attempts, by result: succeeded (a 2xx answer) or failed (any other answer, a timeout or no connection).");

    private const long LockKey = 0x5_11CE_A0E1; // the advisory lock of the delivering node
    private const int Batch = 32;

    /// <summary>Whether this instance is the delivering node now.</summary>
    public bool Delivering { get; private set; }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield();
        var poll = TimeSpan.FromMilliseconds(options.Value.PollMilliseconds);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = await database.OpenConnectionAsync(stoppingToken);
                await using (var take = new NpgsqlCommand($"SELECT pg_try_advisory_lock({LockKey})", connection))
                {
                    if (await take.ExecuteScalarAsync(stoppingToken) is not true)
                    {
                        await Task.Delay(poll * 2, clock, stoppingToken);
                        continue;
                    }
                }

                Delivering = true;
                LogDelivering(logger);
                await using var alive = new NpgsqlCommand("SELECT 1", connection);
                var pruned = DateTimeOffset.MinValue;
                while (!stoppingToken.IsCancellationRequested)
                {
                    await alive.ExecuteScalarAsync(stoppingToken); // the lock lives as long as this connection
                    if (clock.GetUtcNow() - pruned > TimeSpan.FromHours(1))
                    {
                        await PruneAsync(stoppingToken);
                        pruned = clock.GetUtcNow();
                    }
                    if (await DeliverDueAsync(stoppingToken) < Batch)
                    {
                        await Task.Delay(poll, clock, stoppingToken);
                    }
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception exception)
            {
                // The database went away (the lock with it), or something unexpected: never stop the host for it; start over.
                if (exception is NpgsqlException or Marten.Exceptions.MartenException or IOException or TimeoutException)
                {
                    if (Delivering)
                    {
                        LogStopped(logger, exception.Message);
                    }
                }
                else
                {
                    LogFailed(logger, exception);
                }

                Delivering = false;
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(1), clock, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
            finally
            {
                Delivering = false;
            }
        }
    }

    /// <summary>Sends the deliveries due now (at most 32, 8 at a time) and records each attempt; returns how many.</summary>
    public async Task<int> DeliverDueAsync(CancellationToken ct)
    {
        List<WebhookDelivery> due;
        Dictionary<Guid, WebhookEndpoint> endpoints;
        await using (var session = store.QuerySession())
        {
            var now = clock.GetUtcNow();
            due = [.. await session.Query<WebhookDelivery>()
                .Where(d => d.State == WebhookDeliveryState.Pending && d.NextAttemptAt <= now)
                .OrderBy(d => d.NextAttemptAt).Take(Batch).ToListAsync(ct)];
            if (due.Count == 0)
            {
                return 0;
            }

            endpoints = (await session.LoadManyAsync<WebhookEndpoint>(ct, due.Select(d => d.EndpointId).Distinct())).ToDictionary(w => w.Id);
        }

        await Parallel.ForEachAsync(due, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = ct }, async (delivery, token) =>
        {
            if (endpoints.TryGetValue(delivery.EndpointId, out var endpoint))
            {
                await RecordAsync(delivery.Id, await AttemptAsync(endpoint, delivery, token), token);
            }
        });
        return due.Count;
    }

    /// <summary>Deletes the deliveries that are no longer pending and were queued more than 30 days ago (UTC).</summary>
    public async Task PruneAsync(CancellationToken ct)
    {
        var cutoff = clock.GetUtcNow() - Kept;
        await using var session = store.LightweightSession();
        session.DeleteWhere<WebhookDelivery>(d => d.State != WebhookDeliveryState.Pending && d.CreatedAt < cutoff);
        await session.SaveChangesAsync(ct);
    }

    /// <summary>How long sent and failed deliveries stay listed: 30 days.</summary>
    public static readonly TimeSpan Kept = TimeSpan.FromDays(30);

    private async Task<WebhookAttemptResponse> AttemptAsync(WebhookEndpoint endpoint, WebhookDelivery delivery, CancellationToken ct)
    {
        var started = clock.GetUtcNow();
        var timer = Stopwatch.StartNew();
        var body = Encoding.UTF8.GetBytes(delivery.Payload);
        var timestamp = started.ToUnixTimeSeconds();
        using var request = new HttpRequestMessage(HttpMethod.Post, endpoint.Url) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        request.Headers.Add("webhook-id", delivery.MessageId);
        request.Headers.Add("webhook-timestamp", timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture));
        request.Headers.Add("webhook-signature", secrets.Sign(endpoint, delivery.MessageId, timestamp, body, started));
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(options.Value.TimeoutSeconds));
        try
        {
            using var response = await clients.CreateClient(WebhookSetup.Client).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            return new WebhookAttemptResponse(started, (int)response.StatusCode, timer.ElapsedMilliseconds, null);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return new WebhookAttemptResponse(started, null, timer.ElapsedMilliseconds, $"No response within {options.Value.TimeoutSeconds} s.");
        }
        catch (HttpRequestException e)
        {
            var reason = e.InnerException?.Message ?? e.Message;
            return new WebhookAttemptResponse(started, null, timer.ElapsedMilliseconds, reason.Length > 500 ? reason[..500] : reason);
        }
    }

    // Records the attempt on the locked delivery: succeeded on 2xx; otherwise the next attempt per the schedule, or, after
    // the last, failed, with the endpoint disabled and its other pending deliveries failed with it.
    private async Task RecordAsync(Guid deliveryId, WebhookAttemptResponse attempt, CancellationToken ct)
    {
        attempts.Add(1, new KeyValuePair<string, object?>("result", attempt.StatusCode is >= 200 and < 300 ? "succeeded" : "failed"));
        await using var session = store.LightweightSession();
        var delivery = await session.LoadForUpdateAsync<WebhookDelivery>(deliveryId, ct);
        if (delivery is null)
        {
            return; // its endpoint was deleted meanwhile
        }

        delivery.Attempts.Add(attempt);
        if (attempt.StatusCode is >= 200 and < 300)
        {
            delivery.State = WebhookDeliveryState.Succeeded;
            session.Store(delivery);
            await session.SaveChangesAsync(ct);
            return;
        }

        var delays = options.Value.RetryDelays;
        delivery.Failures++;
        if (delivery.Failures <= delays.Count)
        {
            delivery.NextAttemptAt = attempt.At + TimeSpan.FromSeconds(delays[delivery.Failures - 1]);
            session.Store(delivery);
            await session.SaveChangesAsync(ct);
            return;
        }

        delivery.State = WebhookDeliveryState.Failed;
        session.Store(delivery);
        var outcome = attempt.StatusCode is { } status ? $"the last answered {status}" : $"the last got no response: {attempt.Error}";
        await WebhookEndpoints.DisableAsync(session, delivery.EndpointId,
            $"Delivery {delivery.MessageId} failed {delivery.Failures} attempts from {delivery.Attempts[^delivery.Failures].At:u} to {attempt.At:u}; {outcome}.",
            clock.GetUtcNow(), ct);
        await session.SaveChangesAsync(ct);
        LogDisabled(logger, delivery.EndpointId, delivery.Failures);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "This instance delivers webhooks now")]
    private static partial void LogDelivering(ILogger logger);

    [LoggerMessage(Level = LogLevel.Information, Message = "This instance stopped delivering webhooks ({Reason}); another takes over")]
    private static partial void LogStopped(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Delivering webhooks failed; the dispatcher starts over in a second")]
    private static partial void LogFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Webhook endpoint {EndpointId} disabled after a delivery failed {Attempts} attempts")]
    private static partial void LogDisabled(ILogger logger, Guid endpointId, int attempts);
}

/// <summary>Changes of endpoints that the dispatcher and the slices share.</summary>
internal static class WebhookEndpoints
{
    /// <summary>
    /// Disables the endpoint (locked) with <paramref name="reason"/> and fails its pending deliveries, in
    /// <paramref name="session"/>'s transaction; nothing when it is gone or already disabled.
    /// </summary>
    public static async Task DisableAsync(IDocumentSession session, Guid endpointId, string reason, DateTimeOffset now, CancellationToken ct)
    {
        if (await session.LoadForUpdateAsync<WebhookEndpoint>(endpointId, ct) is { Enabled: true } endpoint)
        {
            Disable(session, endpoint, reason, now);
            session.UpdateRevision(endpoint, endpoint.Version + 1);
        }
    }

    /// <summary>
    /// Marks <paramref name="endpoint"/> (loaded locked by the caller, who saves it) disabled with
    /// <paramref name="reason"/>, and queues the failing of its pending deliveries in <paramref name="session"/>.
    /// </summary>
    public static void Disable(IDocumentSession session, WebhookEndpoint endpoint, string reason, DateTimeOffset now)
    {
        endpoint.Enabled = false;
        endpoint.DisabledAt = now;
        endpoint.DisabledReason = reason;
        session.QueueSqlCommand(
            "update mt_doc_webhookdelivery set state = 'Failed', data = jsonb_set(data, '{state}', '\"Failed\"') where endpoint_id = ? and state = 'Pending'", endpoint.Id);
    }
}
