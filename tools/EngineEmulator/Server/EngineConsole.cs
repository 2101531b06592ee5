using System.Globalization;
using System.Text;

namespace MlxManager.EngineEmulator.Server;

/// <summary>Writes the engine's own output in the real tool's style. This is the emulated program's console
/// (what a supervisor captures and shows), not diagnostics of the emulator, so it bypasses ILogger on purpose.
/// <list type="bullet">
/// <item>mlx_lm.server: Python logging on stderr (<c>2026-08-22 16:59:44,123 - INFO - …</c>) and
/// BaseHTTPRequestHandler request lines on stderr (<c>127.0.0.1 - - [22/Aug/2026 16:59:44] "POST … HTTP/1.1" 200 -</c>).</item>
/// <item>mlx_vlm.server: uvicorn (<c>INFO:     …</c>, access lines on stdout) plus the app's Python logging on stderr.</item>
/// <item>mlx-openai-server: loguru on stdout (<c>2026-05-14 12:56:29 | INFO     | app.server:lifespan:178 | ✦ …</c>),
/// also appended to the log file unless <c>--no-log-file</c>.</item>
/// </list></summary>
public sealed class EngineConsole(TimeProvider time, string logLevel, string? logFile = null)
{
    static readonly string[] Levels = ["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"];
    readonly Lock gate = new();
    readonly int threshold = Math.Max(0, Array.IndexOf(Levels, logLevel.ToUpperInvariant()));

    bool Enabled(string level) => Array.IndexOf(Levels, level) >= threshold;

    DateTime Now => time.GetLocalNow().DateTime;

    public void Stdout(string text) => Write(Console.Out, text);
    public void Stderr(string text) => Write(Console.Error, text);

    void Write(TextWriter writer, string text)
    {
        lock (gate)
        {
            writer.Write(text.EndsWith('\n') ? text : text + "\n");
            writer.Flush();
        }
    }

    /// <summary>Python <c>logging.basicConfig(format="%(asctime)s - %(levelname)s - %(message)s")</c>, on stderr.</summary>
    public void PythonLog(string level, string message)
    {
        if (!Enabled(level)) return;
        Stderr($"{Now.ToString("yyyy-MM-dd HH:mm:ss,fff", CultureInfo.InvariantCulture)} - {level} - {message}");
    }

    /// <summary>BaseHTTPRequestHandler.log_request, written when the status line is sent.</summary>
    public void BaseHttpRequestLine(string client, string requestLine, int status) =>
        Stderr($"{client} - - [{Now.ToString("dd/MMM/yyyy HH:mm:ss", CultureInfo.InvariantCulture)}] \"{requestLine}\" {status} -");

    /// <summary>uvicorn's default formatter: the level name, a colon, padded to 9 characters.</summary>
    public void Uvicorn(string level, string message)
    {
        if (!Enabled(level)) return;
        Stderr($"{(level + ":").PadRight(9)} {message}");
    }

    /// <summary>uvicorn's access log line, on stdout.</summary>
    public void UvicornAccess(string client, string requestLine, int status) =>
        Stdout($"INFO:     {client} - \"{requestLine}\" {status} {ReasonPhrase(status)}");

    /// <summary>loguru's console format in mlx-openai-server (on stdout), also appended to the log file.</summary>
    public void Loguru(string level, string location, string message)
    {
        if (!Enabled(level)) return;
        var stamp = Now.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
        Stdout($"{stamp} | {level.PadRight(8)} | {location} | ✦ {message}");
        if (logFile is null) return;
        lock (gate)
        {
            File.AppendAllText(logFile, $"{stamp} | {level} | {message}\n", Encoding.UTF8);
        }
    }

    public static string ReasonPhrase(int status) => status switch
    {
        200 => "OK",
        204 => "No Content",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        405 => "Method Not Allowed",
        411 => "Length Required",
        422 => "Unprocessable Entity",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "",
    };
}
