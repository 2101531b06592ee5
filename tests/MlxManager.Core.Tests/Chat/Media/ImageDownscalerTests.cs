using Microsoft.Extensions.Options;
using MlxManager.Core.Chat;
using MlxManager.Core.Chat.Media;
using MlxManager.ModelFixtures;
using SkiaSharp;

namespace MlxManager.Core.Tests.Chat.Media;

public sealed class ImageDownscalerTests
{
    private readonly ImageDownscaler _images = new(Options.Create(new ChatOptions()));

    private static byte[] Encode(int width, int height, SKEncodedImageFormat format, bool transparent = false)
    {
        using var bitmap = new SKBitmap(width, height, SKColorType.Rgba8888, transparent ? SKAlphaType.Premul : SKAlphaType.Opaque);
        using (var canvas = new SKCanvas(bitmap))
        {
            canvas.Clear(transparent ? SKColors.Transparent : SKColors.SteelBlue);
            using var paint = new SKPaint { Color = SKColors.Orange };
            canvas.DrawRect(width / 4f, height / 4f, width / 2f, height / 2f, paint);
        }

        using var image = SKImage.FromBitmap(bitmap);
        using var data = image.Encode(format, 90);
        return data.ToArray();
    }

    [Fact]
    public async Task Prepare_SmallPng_IsSentAsIs()
    {
        var png = Encode(64, 48, SKEncodedImageFormat.Png);

        var prepared = await _images.PrepareAsync(png, "a.png", 2048, 4_000_000, CancellationToken.None);

        prepared.Scaled.ShouldBeFalse();
        prepared.Data.ShouldBe(png);
        prepared.MediaType.ShouldBe("image/png");
        (prepared.Width, prepared.Height).ShouldBe((64, 48));
    }

    [Fact]
    public async Task Prepare_LargeImage_IsScaledToFit_KeepingItsProportions()
    {
        var prepared = await _images.PrepareAsync(Encode(4000, 1000, SKEncodedImageFormat.Png), "wide.png", 2048, 40_000_000, CancellationToken.None);

        prepared.Scaled.ShouldBeTrue();
        (prepared.Width, prepared.Height).ShouldBe((2048, 512));
        prepared.MediaType.ShouldBe("image/jpeg");
        ImageDownscaler.Measure(prepared.Data).ShouldBe((2048, 512));
    }

    [Fact]
    public async Task Prepare_TransparentImage_StaysPng()
    {
        var prepared = await _images.PrepareAsync(Encode(3000, 3000, SKEncodedImageFormat.Png, transparent: true), "logo.png", 1024, 40_000_000, CancellationToken.None);

        prepared.MediaType.ShouldBe("image/png");
        (prepared.Width, prepared.Height).ShouldBe((1024, 1024));
    }

    [Fact]
    public async Task Prepare_HeavyFileWithinTheSize_IsReEncoded()
    {
        var png = Encode(1500, 1500, SKEncodedImageFormat.Png);

        var prepared = await _images.PrepareAsync(png, "heavy.png", 2048, maxBytes: 1000, CancellationToken.None);

        prepared.Scaled.ShouldBeTrue();
        (prepared.Width, prepared.Height).ShouldBe((1500, 1500));
    }

    [Fact]
    public async Task Prepare_NotAnImage_IsRefusedWithItsName() =>
        (await Should.ThrowAsync<AttachmentRejectedException>(() => _images.PrepareAsync("not an image"u8.ToArray(), "fake.png", 2048, 1000, CancellationToken.None)))
            .Message.ShouldBe("fake.png is not an image that can be read (PNG, JPEG, WebP, GIF, BMP).");
}

/// <summary>Memory figures of the whole process: these run alone, so no other test's allocations count.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ImageMemoryCollection
{
    public const string Name = "Image memory";
}

[Collection(ImageMemoryCollection.Name)]
public sealed class ImageDownscalerMemoryTests
{
    private readonly ImageDownscaler _images = new(Options.Create(new ChatOptions()));

    [Fact]
    public async Task PrepareAsync_SmallFileOfTooManyPixels_IsRefusedBeforeItIsDecoded()
    {
        var bomb = OversizedPng.Create(12000, 12000);
        bomb.Length.ShouldBeLessThan(1024 * 1024);
        var peak = PeakMemory.Start();

        var refused = await Should.ThrowAsync<AttachmentRejectedException>(() => _images.PrepareAsync(bomb, "bomb.png", 2048, 4_000_000, CancellationToken.None));

        refused.Message.ShouldBe("bomb.png is 12000×12000 pixels (144 megapixels); images may have at most 50 megapixels.");
        peak.GrowthBytes().ShouldBeLessThan(100L * 1024 * 1024, "decoding it would take 576 MB");
    }

    [Fact]
    public async Task PrepareAsync_LargeJpegPhoto_IsDecodedAlreadyScaled()
    {
        byte[] photo;
        using (var bitmap = new SKBitmap(6000, 4000, SKColorType.Rgba8888, SKAlphaType.Opaque))
        {
            using (var canvas = new SKCanvas(bitmap))
            {
                canvas.Clear(SKColors.SteelBlue);
            }

            using var image = SKImage.FromBitmap(bitmap);
            using var encoded = image.Encode(SKEncodedImageFormat.Jpeg, 90);
            photo = encoded.ToArray();
        }

        var peak = PeakMemory.Start();

        var prepared = await _images.PrepareAsync(photo, "photo.jpg", 2048, 4_000_000, CancellationToken.None);

        (prepared.Width, prepared.Height).ShouldBe((2048, 1365));
        prepared.MediaType.ShouldBe("image/jpeg");
        peak.GrowthBytes().ShouldBeLessThan(64L * 1024 * 1024, "a full decode takes 96 MB; decoding at 3/8 takes 13.5 MB");
    }

    /// <summary>The process's peak resident memory since <see cref="Start"/> (Linux resets the peak on request).</summary>
    private sealed class PeakMemory
    {
        private readonly long _start;

        private PeakMemory(long start) => _start = start;

        public static PeakMemory Start()
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            if (File.Exists("/proc/self/clear_refs"))
            {
                File.WriteAllText("/proc/self/clear_refs", "5"); // resets VmHWM to the current resident size
            }

            return new PeakMemory(Peak());
        }

        public long GrowthBytes() => Peak() - _start;

        private static long Peak()
        {
            if (File.Exists("/proc/self/status"))
            {
                var line = File.ReadLines("/proc/self/status").First(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) * 1024;
            }

            using var process = System.Diagnostics.Process.GetCurrentProcess();
            return process.PeakWorkingSet64;
        }
    }
}
