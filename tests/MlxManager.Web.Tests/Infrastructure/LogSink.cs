using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace MlxManager.Web.Tests.Infrastructure;

/// <summary>One captured log entry.</summary>
public sealed record LogEntry(string Category, LogLevel Level, string Message, Exception? Exception);

/// <summary>Collects what a test host logs, so tests can check what operators would read.</summary>
public sealed class LogSink
{
    private readonly ConcurrentQueue<LogEntry> _entries = new();

    public IReadOnlyList<LogEntry> Entries => _entries.ToArray();

    public void Add(LogEntry entry) => _entries.Enqueue(entry);
}

public sealed class SinkLoggerProvider(LogSink sink) : ILoggerProvider
{
    public ILogger CreateLogger(string categoryName) => new SinkLogger(categoryName, sink);

    public void Dispose()
    {
    }

    private sealed class SinkLogger(string category, LogSink sink) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                sink.Add(new LogEntry(category, logLevel, formatter(state, exception), exception));
            }
        }
    }
}
