using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace SliceApi.Tests.Support;

/// <summary>
/// A logger provider that keeps every line an app host writes (category, level, message with its exception), and the
/// text of every scope begun, for tests that assert on logs.
/// </summary>
public sealed class CapturedLogs : ILoggerProvider
{
    private readonly ConcurrentQueue<(string Category, LogLevel Level, string Message)> lines = new();
    private readonly ConcurrentQueue<string> scopes = new();

    /// <summary>Every line so far, oldest first.</summary>
    public IReadOnlyList<(string Category, LogLevel Level, string Message)> Lines => lines.ToArray();

    /// <summary>The text of every scope begun so far (request paths, trace ids, ...), oldest first.</summary>
    public IReadOnlyList<string> Scopes => scopes.ToArray();

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, this);

    public void Dispose()
    {
    }

    private sealed class Logger(string category, CapturedLogs logs) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull
        {
            logs.scopes.Enqueue(state is IEnumerable<KeyValuePair<string, object?>> pairs
                ? $"{state} {string.Join(", ", pairs.Select(p => $"{p.Key}={p.Value}"))}"
                : state.ToString() ?? "");
            return null;
        }

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            logs.lines.Enqueue((category, logLevel, exception is null ? formatter(state, exception) : $"{formatter(state, exception)} {exception}"));
    }
}
