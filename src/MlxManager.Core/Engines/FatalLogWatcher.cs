namespace MlxManager.Core.Engines;

/// <summary>
/// Reads an engine's output line by line and recognises the engine's own fatal signature — a failure
/// that leaves the process running but useless. One watcher per run: it keeps state across lines.
/// Only signatures the engine really prints count; words like "Error" elsewhere in the log do not.
/// </summary>
public interface IFatalLogWatcher
{
    /// <summary>Feeds one line (without its newline). Returns the failure once its signature is complete, otherwise null.</summary>
    FatalLogMatch? Observe(string line);

    /// <summary>
    /// Returns a signature that has started but may still be growing (e.g. a traceback whose last line has
    /// been printed but which a chained exception could still extend). Call it when the output has been
    /// quiet for a moment (a few hundred milliseconds) and when the process exits.
    /// </summary>
    FatalLogMatch? Flush();
}

/// <summary>A recognised fatal failure.</summary>
/// <param name="Summary">One line for the server tile, e.g. <c>ValueError: Model type foo not supported.</c></param>
/// <param name="Detail">The whole signature as printed (e.g. the traceback).</param>
public sealed record FatalLogMatch(string Summary, string Detail);

/// <summary>For engines whose failures all end the process: exit detection covers them, nothing to watch.</summary>
public sealed class NoFatalLogSignature : IFatalLogWatcher
{
    public FatalLogMatch? Observe(string line) => null;

    public FatalLogMatch? Flush() => null;
}
