using System.ComponentModel.DataAnnotations;
using System.Text;

namespace SliceApi.Infrastructure.Security;

/// <summary>Settings of the access tokens this API issues and accepts (configuration section <c>Jwt</c>).</summary>
internal sealed class JwtOptions
{
    /// <summary>The configuration section name.</summary>
    public const string Section = "Jwt";

    /// <summary>
    /// The development-only key committed in <c>appsettings.Development.json</c>; refused in every
    /// other environment, so a deployment cannot run on a published secret.
    /// </summary>
    public const string DevelopmentKey = "development-only-signing-key-do-not-use-in-production-0123456789";

    /// <summary>
    /// HMAC-SHA256 signing key, at least 32 bytes of UTF-8 (RFC 7518 section 3.2: the key must be
    /// at least as long as the hash output). Set it with the environment variable <c>Jwt__SigningKey</c>.
    /// </summary>
    public string SigningKey { get; set; } = string.Empty;

    /// <summary>The <c>iss</c> claim written and required.</summary>
    [Required]
    public string Issuer { get; set; } = "sliceapi";

    /// <summary>The <c>aud</c> claim written and required.</summary>
    [Required]
    public string Audience { get; set; } = "sliceapi";

    /// <summary>Lifetime of an access token in minutes (default 15).</summary>
    [Range(1, 24 * 60)]
    public int AccessTokenLifetimeMinutes { get; set; } = 15;

    /// <summary>Lifetime of a refresh token in days (default 14).</summary>
    [Range(1, 365)]
    public int RefreshTokenLifetimeDays { get; set; } = 14;

    /// <summary>
    /// Tolerance in seconds for clock differences when checking <c>exp</c> and <c>nbf</c> (default 30;
    /// RFC 7519 section 4.1.4 allows "some small leeway").
    /// </summary>
    [Range(0, 300)]
    public int ClockSkewSeconds { get; set; } = 30;

    /// <summary>The signing key as bytes.</summary>
    public byte[] SigningKeyBytes => Encoding.UTF8.GetBytes(SigningKey);
}
