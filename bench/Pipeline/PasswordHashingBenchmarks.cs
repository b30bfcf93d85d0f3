using BenchmarkDotNet.Attributes;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;
using SliceApi.Features.Users;
using SliceApi.Infrastructure.Security;

namespace SliceApi.Benchmarks;

/// <summary>
/// The CPU cost of one password verification, which every login pays: ASP.NET Core Identity's PBKDF2-HMAC-SHA512 at the
/// framework's default 100,000 iterations (the baseline, used before 2026-12) and at the 210,000 OWASP asks for
/// (<see cref="User.PasswordIterations"/>), measured in one run so the ratio holds on a noisy machine.
/// <c>dotnet run -c Release --project bench/Pipeline -- --filter '*PasswordHashing*'</c>
/// </summary>
[MemoryDiagnoser]
public class PasswordHashingBenchmarks
{
    private const string Password = "correct horse battery staple";
    private static readonly User Account = new() { Email = "bench@example.com", DisplayName = "Bench", Role = AppRoles.User };
    private PasswordHasher<User> hasher = null!;
    private string hash = "";

    /// <summary>The PBKDF2 iteration count.</summary>
    [Params(100_000, User.PasswordIterations)]
    public int Iterations { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        hasher = new PasswordHasher<User>(Options.Create(new PasswordHasherOptions { IterationCount = Iterations }));
        hash = hasher.HashPassword(Account, Password);
    }

    [Benchmark]
    public PasswordVerificationResult Verify() => hasher.VerifyHashedPassword(Account, hash, Password);
}
