using System.Collections.Immutable;
using HangfireLogLevel = Hangfire.Logging.LogLevel;
using IHangfireLog = Hangfire.Logging.ILog;
using IHangfireLogProvider = Hangfire.Logging.ILogProvider;

namespace MlxManager.Web.Hosting;

/// <summary>
/// Hangfire logs through one process-wide provider (<c>LogProvider</c> is static). The stock one
/// captures the logger factory of whichever host configured Hangfire last and throws once that host is
/// disposed, which breaks every other host in the process (the tests run several). This provider sends
/// each entry to the logger factory of the most recently started host that is still alive.
/// </summary>
internal sealed class HangfireLogRouting : IHangfireLogProvider
{
    public static HangfireLogRouting Instance { get; } = new();

    private static ImmutableList<ILoggerFactory> _liveFactories = [];

    private HangfireLogRouting()
    {
    }

    /// <summary>Adds a host's logger factory until the returned registration (a DI singleton) is disposed.</summary>
    public static Registration Register(ILoggerFactory factory)
    {
        ImmutableInterlocked.Update(ref _liveFactories, list => list.Add(factory));
        return new Registration(factory);
    }

    public IHangfireLog GetLogger(string name) => new RoutedLog(name);

    private static ILoggerFactory? Current => _liveFactories.LastOrDefault();

    /// <summary>Removes the factory before the container disposes it (singletons are disposed in reverse creation order).</summary>
    public sealed class Registration(ILoggerFactory factory) : IDisposable
    {
        public void Dispose() => ImmutableInterlocked.Update(ref _liveFactories, list => list.Remove(factory));
    }

    private sealed class RoutedLog(string name) : IHangfireLog
    {
        public bool Log(HangfireLogLevel logLevel, Func<string>? messageFunc, Exception? exception = null)
        {
            var factory = Current;
            if (factory is null)
            {
                return false;
            }
            var logger = factory.CreateLogger(name);
            var level = logLevel switch
            {
                HangfireLogLevel.Trace => LogLevel.Trace,
                HangfireLogLevel.Debug => LogLevel.Debug,
                HangfireLogLevel.Info => LogLevel.Information,
                HangfireLogLevel.Warn => LogLevel.Warning,
                HangfireLogLevel.Error => LogLevel.Error,
                _ => LogLevel.Critical,
            };
            if (messageFunc is null)
            {
                return logger.IsEnabled(level);
            }
            if (logger.IsEnabled(level))
            {
#pragma warning disable CA2254 // Hangfire hands over finished text, not a template.
                logger.Log(level, exception, messageFunc().Replace("{", "{{", StringComparison.Ordinal).Replace("}", "}}", StringComparison.Ordinal));
#pragma warning restore CA2254
            }
            return true;
        }
    }
}
