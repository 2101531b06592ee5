using System.Diagnostics;
using SkiaSharp;

namespace MlxManager.Web.Tests.Chat.Infrastructure;

/// <summary>Real image and video files for attachment tests.</summary>
public static class Media
{
    /// <summary>An opaque PNG of the given size.</summary>
    public static byte[] Png(int width, int height)
    {
        using var bitmap = new SKBitmap(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque);
        using (var canvas = new SKCanvas(bitmap))
        {
            canvas.Clear(new SKColor(30, 90, 200));
            using var paint = new SKPaint { Color = SKColors.Orange };
            canvas.DrawCircle(width / 2f, height / 2f, Math.Min(width, height) / 3f, paint);
        }

        using var image = SKImage.FromBitmap(bitmap);
        using var data = image.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }

    /// <summary>A short MP4 made by ffmpeg's test source (ffmpeg must be installed; .ci/run installs it).</summary>
    public static byte[] TestVideo(int seconds = 3)
    {
        var file = Path.Combine(Path.GetTempPath(), $"chat-test-{Guid.NewGuid():N}.mp4");
        var start = new ProcessStartInfo("ffmpeg")
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { "-hide_banner", "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i", $"testsrc=duration={seconds}:size=320x240:rate=10", "-pix_fmt", "yuv420p", file })
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var errors = process.StandardError.ReadToEnd();
        process.WaitForExit(60_000).ShouldBeTrue("ffmpeg did not finish");
        process.ExitCode.ShouldBe(0, errors);
        try
        {
            return File.ReadAllBytes(file);
        }
        finally
        {
            File.Delete(file);
        }
    }
}
