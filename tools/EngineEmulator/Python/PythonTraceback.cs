using System.Text;

namespace MlxManager.EngineEmulator.Python;

/// <summary>One frame of a Python traceback.</summary>
public sealed record PythonFrame(string File, int Line, string Function, string Source);

/// <summary>A Python exception as the engines would raise it: its qualified type, message and the frames
/// leading to it. The emulator throws it for every failure the real engines report with a traceback.</summary>
public sealed class PythonException(string type, string message, IReadOnlyList<PythonFrame> frames) : Exception($"{type}: {message}")
{
    public string PythonType { get; } = type;
    public string PythonMessage { get; } = message;
    public IReadOnlyList<PythonFrame> Frames { get; } = frames;

    /// <summary>The last line of the traceback: <c>ValueError: Model type frobnicator not supported.</c></summary>
    public string Summary => PythonMessage.Length == 0 ? PythonType : $"{PythonType}: {PythonMessage}";

    public PythonException WithOuterFrames(IEnumerable<PythonFrame> outer) => new(PythonType, PythonMessage, [.. outer, .. Frames]);

    /// <summary>The text Python prints: <c>Traceback (most recent call last):</c>, each frame, then the summary.</summary>
    public string Format()
    {
        var sb = new StringBuilder("Traceback (most recent call last):\n");
        foreach (var frame in Frames)
        {
            sb.Append("  File \"").Append(frame.File).Append("\", line ").Append(frame.Line).Append(", in ").Append(frame.Function).Append('\n');
            if (frame.Source.Length > 0) sb.Append("    ").Append(frame.Source).Append('\n');
        }
        return sb.Append(Summary).Append('\n').ToString();
    }
}

/// <summary>Where the engines' Python files live in a typical install (a venv with Homebrew's Python 3.12).</summary>
public static class PythonPaths
{
    public const string SitePackages = "/Users/mlx/.venv/lib/python3.12/site-packages";
    public const string StandardLibrary = "/opt/homebrew/Cellar/python@3.12/3.12.8/Frameworks/Python.framework/Versions/3.12/lib/python3.12";

    public static string Package(string relative) => $"{SitePackages}/{relative}";
    public static string Std(string relative) => $"{StandardLibrary}/{relative}";
}
