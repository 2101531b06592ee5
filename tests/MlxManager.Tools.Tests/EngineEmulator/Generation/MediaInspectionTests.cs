using MlxManager.EngineEmulator.Generation;
using MlxManager.Tools.Tests.EngineEmulator.Infrastructure;

namespace MlxManager.Tools.Tests.EngineEmulator.Generation;

public sealed class MediaInspectionTests
{
    [Fact]
    public void ImageSize_ReadsPngAndJpegHeaders()
    {
        MediaInspection.ImageSize(Media.Png(640, 480)).ShouldBe((640, 480));
        MediaInspection.ImageSize(Media.JpegHeader(1024, 768)).ShouldBe((1024, 768));
    }

    [Fact]
    public void ImageSize_ReadsGif()
    {
        byte[] gif = [(byte)'G', (byte)'I', (byte)'F', (byte)'8', (byte)'9', (byte)'a', 0x20, 0x01, 0x10, 0x00, 0, 0, 0];

        MediaInspection.ImageSize(gif).ShouldBe((288, 16));
    }

    [Fact]
    public void ImageSize_UnknownBytes_HasNoSize()
    {
        MediaInspection.ImageSize([1, 2, 3, 4]).ShouldBe((null, null));
    }

    [Fact]
    public void DecodeDataUrl_SplitsMimeAndBase64()
    {
        var (mime, bytes) = MediaInspection.DecodeDataUrl("data:image/PNG;base64,AAEC");

        mime.ShouldBe("image/png");
        bytes.ShouldBe(new byte[] { 0, 1, 2 });
    }

    [Fact]
    public void DecodeDataUrl_BadBase64_IsAFormatError()
    {
        Should.Throw<FormatException>(() => MediaInspection.DecodeDataUrl("data:image/png;base64,!!!"));
    }

    [Fact]
    public void Inspect_SniffsTheRealTypeOverTheDeclaredOne()
    {
        var facts = MediaInspection.Inspect("image", "image/jpeg", Media.Png(2, 3));

        facts.Describe().ShouldBe($"image/png 2x3, {Media.Png(2, 3).Length} bytes");
    }
}
