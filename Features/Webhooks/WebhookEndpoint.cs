using System.ComponentModel.DataAnnotations;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Marten;
using Microsoft.AspNetCore.DataProtection;
using SliceApi.Features.Tasks;

namespace SliceApi.Features.Webhooks;

/// <summary>Settings of webhook deliveries (section <c>Webhooks</c>).</summary>
public sealed class WebhookOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Webhooks";

    /// <summary>
    /// Whether endpoint URLs may name loopback, private, link-local or other non-public addresses, and plain http there
    /// (tests and local receivers). Default false: such URLs are refused (OWASP SSRF Prevention Cheat Sheet).
    /// </summary>
    public bool AllowPrivateNetworks { get; set; }

    /// <summary>How long a delivery attempt may take, in seconds (connect, send, response headers). Default 10.</summary>
    [Range(1, 60)]
    public int TimeoutSeconds { get; set; } = 10;

    /// <summary>
    /// Seconds to wait before each retry of a failed delivery; by default after the first attempt 5 s, then 5 min, 30 min,
    /// 2 h, 5 h, 10 h and 10 h (Svix's schedule, 8 attempts over about 27 hours). A delivery whose last attempt fails
    /// disables its endpoint. Set as a list (<c>Webhooks:RetryDelaysSeconds:0</c>, <c>:1</c>, ...) to replace it.
    /// </summary>
    public int[]? RetryDelaysSeconds { get; set; }

    /// <summary>The retry delays in effect: <see cref="RetryDelaysSeconds"/>, or the default schedule.</summary>
    public IReadOnlyList<int> RetryDelays => RetryDelaysSeconds is { Length: > 0 } configured ? configured : DefaultRetryDelays;

    private static readonly int[] DefaultRetryDelays = [5, 300, 1800, 7200, 18000, 36000, 36000];

    /// <summary>How often the delivering instance looks for due deliveries, in milliseconds. Default 500.</summary>
    [Range(50, 60000)]
    public int PollMilliseconds { get; set; } = 500;
}

/// <summary>
/// A user's webhook endpoint, a Marten document (table <c>mt_doc_webhookendpoint</c>): where to POST which task events,
/// and the secrets that sign them. Deleted with its owner (foreign key, ON DELETE CASCADE).
/// </summary>
internal sealed class WebhookEndpoint
{
    /// <summary>The most endpoints one user may register.</summary>
    public const int MaxPerUser = 10;

    /// <summary>The id, a version-7 GUID.</summary>
    public Guid Id { get; init; }

    /// <summary>The user who registered it; events are those this user may see.</summary>
    public Guid OwnerId { get; init; }

    /// <summary>The absolute URL deliveries are POSTed to.</summary>
    public required string Url { get; set; }

    /// <summary>The event types wanted, e.g. <c>task.created</c>.</summary>
    public required string[] EventTypes { get; set; }

    /// <summary>False once disabled (by its owner, or after a delivery failed every attempt): nothing is sent.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// Since when it is enabled (UTC): its registration, or its last re-enabling. Only events that occur from then on are
    /// sent, however late the fan-out reads them.
    /// </summary>
    public DateTimeOffset EnabledSince { get; set; }

    /// <summary>When it was disabled (UTC).</summary>
    public DateTimeOffset? DisabledAt { get; set; }

    /// <summary>Why it was disabled, in words.</summary>
    public string? DisabledReason { get; set; }

    /// <summary>The signing secret (<c>whsec_...</c>), protected with ASP.NET Core Data Protection (the key ring is shared by every instance).</summary>
    public required string ProtectedSecret { get; set; }

    /// <summary>The secret before the last rotation, protected, while it still signs.</summary>
    public string? ProtectedPreviousSecret { get; set; }

    /// <summary>Until when the previous secret still signs (UTC): 24 hours after the rotation.</summary>
    public DateTimeOffset? PreviousSecretExpiresAt { get; set; }

    /// <summary>UTC.</summary>
    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>Marten's numeric revision.</summary>
    public long Version { get; set; }
}

/// <summary>The storage of webhook endpoints: the owner a foreign key to the user (ON DELETE CASCADE), indexed.</summary>
internal sealed class WebhookEndpointMapping : IConfigureMarten
{
    public void Configure(IServiceProvider services, StoreOptions options)
    {
        options.Schema.For<WebhookEndpoint>()
            .UseNumericRevisions(true)
            .Metadata(m => m.Revision.MapTo(w => w.Version))
            .Duplicate(w => w.OwnerId, configure: ix => ix.Name = "ix_webhookendpoint_owner_id")
#pragma warning disable CS0618 // Weasel's ForeignKey.OnDelete still has the type it marks obsolete
            .ForeignKey<SliceApi.Features.Users.User>(w => w.OwnerId, fk => fk.OnDelete = Weasel.Postgresql.CascadeAction.Cascade);
#pragma warning restore CS0618
    }
}

/// <summary>The event types an endpoint may ask for: <c>task.</c> and a task event's type.</summary>
internal static class WebhookEventTypes
{
    /// <summary>Every type, e.g. <c>task.status_changed</c>.</summary>
    public static readonly string[] All = [.. Enum.GetValues<TaskEventType>().Select(Of)];

    /// <summary>The webhook type of a task event.</summary>
    public static string Of(TaskEventType type) => "task." + System.Text.Json.JsonNamingPolicy.SnakeCaseLower.ConvertName(type.ToString());
}

/// <summary>
/// Signing secrets and signatures per the Standard Webhooks specification (standardwebhooks.com): a secret is
/// <c>whsec_</c> and the base64 of 32 random bytes; a signature is <c>v1,</c> and the base64 HMAC-SHA256, keyed with
/// those bytes, of <c>{webhook-id}.{webhook-timestamp}.{body}</c>.
/// </summary>
internal sealed class WebhookSecrets(IDataProtectionProvider protection)
{
    private const string Prefix = "whsec_";
    private readonly IDataProtector protector = protection.CreateProtector("SliceApi.Webhooks.Secret");

    /// <summary>A new secret, to be shown once.</summary>
    public static string Create() => Prefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    /// <summary>The secret encrypted for storage.</summary>
    public string Protect(string secret) => protector.Protect(secret);

    /// <summary>
    /// The value of <c>webhook-signature</c>: one <c>v1,...</c> entry per secret that signs now (the current one, and the
    /// previous one for 24 hours after a rotation), separated by spaces.
    /// </summary>
    public string Sign(WebhookEndpoint endpoint, string messageId, long timestamp, byte[] body, DateTimeOffset now)
    {
        var signatures = new List<string> { Signature(protector.Unprotect(endpoint.ProtectedSecret), messageId, timestamp, body) };
        if (endpoint.ProtectedPreviousSecret is { } previous && endpoint.PreviousSecretExpiresAt > now)
        {
            signatures.Add(Signature(protector.Unprotect(previous), messageId, timestamp, body));
        }

        return string.Join(' ', signatures);
    }

    private static string Signature(string secret, string messageId, long timestamp, byte[] body)
    {
        var key = Convert.FromBase64String(secret[Prefix.Length..]);
        var signed = Encoding.UTF8.GetBytes($"{messageId}.{timestamp}.").Concat(body).ToArray();
        return "v1," + Convert.ToBase64String(HMACSHA256.HashData(key, signed));
    }
}

/// <summary>
/// Which addresses a webhook may reach (OWASP SSRF Prevention Cheat Sheet): public unicast only, unless
/// <see cref="WebhookOptions.AllowPrivateNetworks"/>. Checked when an endpoint is registered, and again for every
/// address a delivery connects to, so a name that later resolves elsewhere (DNS rebinding) reaches nothing private.
/// </summary>
internal static class WebhookAddresses
{
    /// <summary>
    /// Whether <paramref name="address"/> is loopback, private (RFC 1918, RFC 4193), link-local (RFC 3927, which holds
    /// the cloud metadata address 169.254.169.254; RFC 4291), shared (RFC 6598), unspecified, multicast or reserved.
    /// </summary>
    public static bool IsNonPublic(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (IPAddress.IsLoopback(address) || address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any) || address.Equals(IPAddress.IPv6None))
        {
            return true;
        }

        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            return address.IsIPv6LinkLocal || address.IsIPv6SiteLocal || address.IsIPv6UniqueLocal || address.IsIPv6Multicast;
        }

        var b = address.GetAddressBytes();
        return b[0] is 0 or 10 or 127 or >= 224 // this network, private, loopback, multicast and reserved
               || (b[0] == 100 && b[1] is >= 64 and <= 127) // shared address space
               || (b[0] == 169 && b[1] == 254) // link-local, cloud metadata
               || (b[0] == 172 && b[1] is >= 16 and <= 31)
               || (b[0] == 192 && b[1] == 168)
               || (b[0] == 192 && b[1] == 0 && b[2] == 0) // IETF protocol assignments
               || (b[0] == 198 && b[1] is 18 or 19); // benchmarking
    }

    /// <summary>The 400 problem naming <c>url</c> when <paramref name="url"/> cannot be a webhook endpoint (<see cref="RefusalAsync"/>), else null.</summary>
    public static async Task<Microsoft.AspNetCore.Http.HttpResults.ValidationProblem?> ProblemAsync(string url, bool allowPrivateNetworks, CancellationToken ct) =>
        await RefusalAsync(url, allowPrivateNetworks, ct) is { } refusal
            ? TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["url"] = [refusal] }, title: "The request is invalid.")
            : null;

    /// <summary>
    /// Why <paramref name="url"/> cannot be a webhook endpoint, or null when it can: an absolute https URL (http too when
    /// private networks are allowed) without user name or fragment, at most 2,048 characters, whose host resolves only to
    /// addresses it may reach.
    /// </summary>
    public static async Task<string?> RefusalAsync(string url, bool allowPrivateNetworks, CancellationToken ct)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || url.Length > 2048 || uri.UserInfo.Length > 0 || uri.Fragment.Length > 0
            || !(uri.Scheme == Uri.UriSchemeHttps || (allowPrivateNetworks && uri.Scheme == Uri.UriSchemeHttp)))
        {
            return "'url' must be an absolute https URL without user name or fragment, at most 2048 characters.";
        }

        if (allowPrivateNetworks)
        {
            return null;
        }

        IPAddress[] addresses;
        try
        {
            addresses = IPAddress.TryParse(uri.IdnHost.Trim('[', ']'), out var literal) ? [literal] : await Dns.GetHostAddressesAsync(uri.IdnHost, ct);
        }
        catch (SocketException)
        {
            return $"'url': the host {uri.Host} does not resolve.";
        }

        return addresses.Length == 0 ? $"'url': the host {uri.Host} does not resolve."
            : addresses.Any(IsNonPublic) ? $"'url': the host {uri.Host} resolves to a loopback, private, link-local or reserved address, which webhooks may not reach."
            : null;
    }
}
