using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace SliceApi.Tests.Support;

/// <summary>A logger provider that keeps every line an app host writes (category, level, message), for tests that assert on logs.</summary>
public sealed class CapturedLogs : ILoggerProvider
{
    private readonly ConcurrentQueue<(string Category, LogLevel Level, string Message)> lines = new();

    /// <summary>Every line so far, oldest first.</summary>
    public IReadOnlyList<(string Category, LogLevel Level, string Message)> Lines => lines.ToArray();

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, lines);

    public void Dispose()
    {
    }

    private sealed class Logger(string category, ConcurrentQueue<(string, LogLevel, string)> lines) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            lines.Enqueue((category, logLevel, formatter(state, exception)));
    }
}
