using System.Diagnostics.Metrics;
using SliceApi.Infrastructure.Telemetry;

namespace SliceApi.Features.Auth;

/// <summary>The Auth feature's counters, on SliceApi's meter (<see cref="TelemetrySetup.MeterName"/>).</summary>
internal static class AuthMetrics
{
    /// <summary>The attribute of <see cref="Logins"/> that says how the attempt ended.</summary>
    public const string Result = "result";

    /// <summary>
    /// <c>sliceapi.logins</c> (<c>{login}</c>): login attempts by <see cref="Result"/>: <c>succeeded</c>, <c>failed</c>
    /// (unknown email, wrong password or inactive account: one answer, OWASP Authentication Cheat Sheet) or
    /// <c>locked_out</c> (refused while the email's lockout lasts).
    /// </summary>
    public static Counter<long> Logins(IMeterFactory meters) =>
        meters.ApiCounter("sliceapi.logins", "{login}", "Login attempts, by result: succeeded, failed or locked_out.");

    /// <summary>
    /// <c>sliceapi.refresh_tokens.reuse_detected</c> (<c>{token}</c>): refresh tokens presented again after they were
    /// exchanged, each of which revoked its family (RFC 9700 section 4.14.2).
    /// </summary>
    public static Counter<long> RefreshTokenReuse(IMeterFactory meters) =>
        meters.ApiCounter("sliceapi.refresh_tokens.reuse_detected", "{token}", "Refresh tokens presented after they were exchanged; each revoked its family.");
}
