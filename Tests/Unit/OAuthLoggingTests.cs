using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using SliceApi.Features.OAuth;

namespace SliceApi.Tests.Unit;

/// <summary>OpenIddict logs at the configured level, never at Trace (its Trace messages hold whole tokens).</summary>
public sealed class OAuthLoggingTests
{
    [Theory]
    [InlineData(null, null, LogLevel.Information)] // nothing configured: the default minimum
    [InlineData("Warning", null, LogLevel.Warning)]
    [InlineData("Trace", null, LogLevel.Debug)]
    [InlineData("Information", "Trace", LogLevel.Debug)]
    [InlineData("Trace", "Error", LogLevel.Error)]
    public void OpenIddict_logs_from_the_configured_level_but_never_at_trace(string? defaultLevel, string? openIddictServerLevel, LogLevel lowest)
    {
        var options = new LoggerFilterOptions { MinLevel = LogLevel.Information }; // as AddLogging sets it
        if (defaultLevel is not null)
        {
            options.Rules.Add(new LoggerFilterRule(null, null, Enum.Parse<LogLevel>(defaultLevel), null));
        }

        if (openIddictServerLevel is not null)
        {
            options.Rules.Add(new LoggerFilterRule(null, "OpenIddict.Server", Enum.Parse<LogLevel>(openIddictServerLevel), null));
        }

        OAuthLogging.KeepTraceOff(options);
        using var factory = LoggerFactory.Create(logging =>
        {
            logging.AddProvider(new EnabledProvider());
            logging.Services.Configure<LoggerFilterOptions>(o =>
            {
                o.MinLevel = options.MinLevel;
                foreach (var rule in options.Rules)
                {
                    o.Rules.Add(rule);
                }
            });
        });
        var logger = factory.CreateLogger("OpenIddict.Server.OpenIddictServerDispatcher");

        Enum.GetValues<LogLevel>().Where(l => l != LogLevel.None).Where(logger.IsEnabled).Min().ShouldBe(lowest);
    }

    // A provider whose loggers take every level, so what the factory enables is what the filter rules let through.
    private sealed class EnabledProvider : ILoggerProvider, ILogger
    {
        public ILogger CreateLogger(string categoryName) => this;

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
        }

        public void Dispose()
        {
        }
    }
}
