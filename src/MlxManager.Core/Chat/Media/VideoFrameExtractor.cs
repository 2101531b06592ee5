using System.Globalization;
using System.Text;
using CliWrap;
using CliWrap.Exceptions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace MlxManager.Core.Chat.Media;

/// <summary>
/// Takes frames out of a video with ffmpeg (run with an argument list, never a shell): a few per second, at most
/// <see cref="ChatOptions.VideoMaxFrames"/>, scaled to fit <see cref="ChatOptions.VideoFrameMaxDimension"/>, as JPEG
/// files. For engines that take images but not <c>video_url</c>.
/// </summary>
public sealed partial class VideoFrameExtractor(FfmpegLocator locator, IOptions<ChatOptions> options, ILogger<VideoFrameExtractor> logger)
{
    /// <summary>
    /// Extracts the frames of <paramref name="videoPath"/> into <paramref name="outputFolder"/> (created; existing
    /// frames there are returned as they are) and returns their paths in order.
    /// </summary>
    /// <exception cref="AttachmentRejectedException">ffmpeg is missing, failed, or found no frames.</exception>
    public async Task<IReadOnlyList<string>> ExtractAsync(string videoPath, string outputFolder, CancellationToken cancellationToken)
    {
        var existing = Frames(outputFolder);
        if (existing.Count > 0)
        {
            return existing;
        }

        var (ffmpeg, problem) = locator.Locate();
        if (ffmpeg is null)
        {
            throw new AttachmentRejectedException(problem!);
        }

        var settings = options.Value;
        Directory.CreateDirectory(outputFolder);
        var max = settings.VideoFrameMaxDimension.ToString(CultureInfo.InvariantCulture);
        var fps = settings.VideoFramesPerSecond.ToString("0.###", CultureInfo.InvariantCulture);
        var filter = $"fps={fps},scale=w='min({max},iw)':h='min({max},ih)':force_original_aspect_ratio=decrease";
        var errors = new StringBuilder();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(settings.FfmpegTimeout);
        try
        {
            await Cli.Wrap(ffmpeg)
                .WithArguments(args => args
                    .Add("-hide_banner").Add("-nostdin").Add("-loglevel").Add("error")
                    .Add("-i").Add(videoPath)
                    .Add("-vf").Add(filter)
                    .Add("-frames:v").Add(settings.VideoMaxFrames)
                    .Add("-q:v").Add(4)
                    .Add(Path.Combine(outputFolder, "frame-%03d.jpg")))
                .WithStandardErrorPipe(PipeTarget.ToStringBuilder(errors))
                .WithValidation(CommandResultValidation.ZeroExitCode)
                .ExecuteAsync(timeout.Token);
        }
        catch (CommandExecutionException ex)
        {
            LogFailed(logger, videoPath, ex);
            throw new AttachmentRejectedException($"ffmpeg could not read the video: {LastLine(errors)}");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new AttachmentRejectedException($"ffmpeg took longer than {settings.FfmpegTimeout.TotalSeconds:0} s to extract frames.");
        }

        var frames = Frames(outputFolder);
        return frames.Count > 0 ? frames : throw new AttachmentRejectedException("ffmpeg found no frames in the video.");
    }

    private static List<string> Frames(string folder) => Directory.Exists(folder)
        ? Directory.GetFiles(folder, "frame-*.jpg").Order(StringComparer.Ordinal).ToList()
        : [];

    private static string LastLine(StringBuilder text) =>
        text.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault() ?? "no details";

    [LoggerMessage(Level = LogLevel.Warning, Message = "ffmpeg failed on {Video}")]
    private static partial void LogFailed(ILogger logger, string video, Exception exception);
}
