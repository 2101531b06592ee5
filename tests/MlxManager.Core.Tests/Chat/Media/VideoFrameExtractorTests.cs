using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using MlxManager.Core.Chat;
using MlxManager.Core.Chat.Media;

namespace MlxManager.Core.Tests.Chat.Media;

/// <summary>Real ffmpeg (installed here and by .ci/run) on a video made with its test source.</summary>
public sealed class VideoFrameExtractorTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("frames-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static VideoFrameExtractor Extractor(ChatOptions options) =>
        new(new FfmpegLocator(Options.Create(options)), Options.Create(options), NullLogger<VideoFrameExtractor>.Instance);

    private string MakeVideo(int seconds, string size)
    {
        var path = Path.Combine(_folder, "clip.mp4");
        var start = new ProcessStartInfo("ffmpeg") { RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "-hide_banner", "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i", $"testsrc=duration={seconds}:size={size}:rate=10", "-pix_fmt", "yuv420p", path })
        {
            start.ArgumentList.Add(a);
        }

        using var ffmpeg = Process.Start(start)!;
        var errors = ffmpeg.StandardError.ReadToEnd();
        ffmpeg.WaitForExit();
        ffmpeg.ExitCode.ShouldBe(0, errors);
        return path;
    }

    [Fact]
    public async Task Extract_TakesOneFramePerSecond_ScaledToFit()
    {
        var video = MakeVideo(4, "1280x720");

        var frames = await Extractor(new ChatOptions { VideoFrameMaxDimension = 320 }).ExtractAsync(video, Path.Combine(_folder, "f"), default);

        frames.Count.ShouldBe(4);
        frames.Select(f => ImageDownscaler.Measure(File.ReadAllBytes(f))).Distinct().ShouldBe([(320, 180)]);
    }

    [Fact]
    public async Task Extract_StopsAtTheFrameLimit()
    {
        var video = MakeVideo(5, "160x120");

        var frames = await Extractor(new ChatOptions { VideoFramesPerSecond = 2, VideoMaxFrames = 3 }).ExtractAsync(video, Path.Combine(_folder, "f"), default);

        frames.Count.ShouldBe(3);
        ImageDownscaler.Measure(File.ReadAllBytes(frames[0])).ShouldBe((160, 120), "smaller videos are not scaled up");
    }

    [Fact]
    public async Task Extract_ReusesFramesAlreadyExtracted()
    {
        var video = MakeVideo(2, "160x120");
        var extractor = Extractor(new ChatOptions());
        var first = await extractor.ExtractAsync(video, Path.Combine(_folder, "f"), default);
        File.Delete(video);

        var again = await extractor.ExtractAsync(video, Path.Combine(_folder, "f"), default);

        again.ShouldBe(first);
    }

    [Fact]
    public async Task Extract_NotAVideo_SaysFfmpegCouldNotReadIt()
    {
        var path = Path.Combine(_folder, "bad.mp4");
        await File.WriteAllTextAsync(path, "no video here");

        var error = await Should.ThrowAsync<AttachmentRejectedException>(() => Extractor(new ChatOptions()).ExtractAsync(path, Path.Combine(_folder, "f"), default));

        error.Message.ShouldStartWith("ffmpeg could not read the video:");
    }

    [Fact]
    public async Task Extract_WithoutFfmpeg_SaysSoClearly()
    {
        var options = new ChatOptions { FfmpegPath = Path.Combine(_folder, "no-ffmpeg") };

        var error = await Should.ThrowAsync<AttachmentRejectedException>(() => Extractor(options).ExtractAsync("x.mp4", Path.Combine(_folder, "f"), default));

        error.Message.ShouldBe($"ffmpeg was not found at {options.FfmpegPath} (MlxManager:Chat:FfmpegPath). {FfmpegLocator.InstallHint}");
    }

    [Fact]
    public void Locate_SearchesPath_AndSaysWhenItIsMissing()
    {
        var locator = new FfmpegLocator(Options.Create(new ChatOptions()));

        locator.Locate(_folder).ShouldBe((null, $"ffmpeg was not found on PATH. {FfmpegLocator.InstallHint}"));
        locator.Locate("/usr/bin").Path.ShouldBe("/usr/bin/ffmpeg");
    }
}
