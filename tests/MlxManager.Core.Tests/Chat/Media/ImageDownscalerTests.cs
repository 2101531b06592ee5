using MlxManager.Core.Chat.Media;
using SkiaSharp;

namespace MlxManager.Core.Tests.Chat.Media;

public sealed class ImageDownscalerTests
{
    private readonly ImageDownscaler _images = new();

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
    public void Prepare_SmallPng_IsSentAsIs()
    {
        var png = Encode(64, 48, SKEncodedImageFormat.Png);

        var prepared = _images.Prepare(png, "a.png", 2048, 4_000_000);

        prepared.Scaled.ShouldBeFalse();
        prepared.Data.ShouldBe(png);
        prepared.MediaType.ShouldBe("image/png");
        (prepared.Width, prepared.Height).ShouldBe((64, 48));
    }

    [Fact]
    public void Prepare_LargeImage_IsScaledToFit_KeepingItsProportions()
    {
        var prepared = _images.Prepare(Encode(4000, 1000, SKEncodedImageFormat.Png), "wide.png", 2048, 40_000_000);

        prepared.Scaled.ShouldBeTrue();
        (prepared.Width, prepared.Height).ShouldBe((2048, 512));
        prepared.MediaType.ShouldBe("image/jpeg");
        ImageDownscaler.Measure(prepared.Data).ShouldBe((2048, 512));
    }

    [Fact]
    public void Prepare_TransparentImage_StaysPng()
    {
        var prepared = _images.Prepare(Encode(3000, 3000, SKEncodedImageFormat.Png, transparent: true), "logo.png", 1024, 40_000_000);

        prepared.MediaType.ShouldBe("image/png");
        (prepared.Width, prepared.Height).ShouldBe((1024, 1024));
    }

    [Fact]
    public void Prepare_HeavyFileWithinTheSize_IsReEncoded()
    {
        var png = Encode(1500, 1500, SKEncodedImageFormat.Png);

        var prepared = _images.Prepare(png, "heavy.png", 2048, maxBytes: 1000);

        prepared.Scaled.ShouldBeTrue();
        (prepared.Width, prepared.Height).ShouldBe((1500, 1500));
    }

    [Fact]
    public void Prepare_NotAnImage_IsRefusedWithItsName() =>
        Should.Throw<AttachmentRejectedException>(() => _images.Prepare("not an image"u8, "fake.png", 2048, 1000))
            .Message.ShouldBe("fake.png is not an image that can be read (PNG, JPEG, WebP, GIF, BMP).");
}
