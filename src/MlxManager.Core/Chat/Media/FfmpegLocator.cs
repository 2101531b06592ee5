using Microsoft.Extensions.Options;

namespace MlxManager.Core.Chat.Media;

/// <summary>Finds ffmpeg: <c>MlxManager:Chat:FfmpegPath</c> when set, else <c>ffmpeg</c> on PATH.</summary>
public sealed class FfmpegLocator(IOptions<ChatOptions> options)
{
    /// <summary>The message shown when ffmpeg is missing.</summary>
    public const string InstallHint =
        "Videos are sent to this engine as frames, which needs ffmpeg: install it (macOS: brew install ffmpeg) or set MlxManager:Chat:FfmpegPath.";

    /// <summary>The ffmpeg executable, or null with the reason.</summary>
    public (string? Path, string? Problem) Locate() => Locate(Environment.GetEnvironmentVariable("PATH"));

    /// <inheritdoc cref="Locate()"/>
    public (string? Path, string? Problem) Locate(string? pathVariable)
    {
        var configured = options.Value.FfmpegPath;
        if (!string.IsNullOrWhiteSpace(configured))
        {
            return IsExecutable(configured)
                ? (configured, null)
                : (null, $"ffmpeg was not found at {configured} (MlxManager:Chat:FfmpegPath). {InstallHint}");
        }

        foreach (var folder in (pathVariable ?? "").Split(System.IO.Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = System.IO.Path.Combine(folder, OperatingSystem.IsWindows() ? "ffmpeg.exe" : "ffmpeg");
            if (IsExecutable(candidate))
            {
                return (candidate, null);
            }
        }

        return (null, $"ffmpeg was not found on PATH. {InstallHint}");
    }

    private static bool IsExecutable(string path)
    {
        if (!File.Exists(path))
        {
            return false;
        }

        return OperatingSystem.IsWindows()
            || (File.GetUnixFileMode(path) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) != 0;
    }
}
