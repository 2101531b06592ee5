using SkiaSharp;

namespace MlxManager.Core.Chat.Media;

/// <summary>An image ready to send: its bytes, type and size, and whether it was scaled down.</summary>
public sealed record PreparedImage(byte[] Data, string MediaType, int Width, int Height, bool Scaled);

/// <summary>
/// Checks that uploaded bytes really are an image and scales very large ones down before they are sent to an
/// engine (a 48-megapixel photo as a data URL is tens of MB of JSON and thousands of vision tokens). Uses SkiaSharp
/// (MIT; ImageSharp 2.x has reported flaws with crafted files and 3.x needs a paid licence), decoding in-process
/// with no external tool.
/// </summary>
public sealed class ImageDownscaler
{
    private static readonly HashSet<string> SentAsIs = new(StringComparer.OrdinalIgnoreCase) { "image/png", "image/jpeg", "image/webp", "image/gif" };

    /// <summary>
    /// Returns the image unchanged when it is PNG, JPEG, WebP or GIF, no side exceeds <paramref name="maxDimension"/>
    /// and it is at most <paramref name="maxBytes"/>; otherwise a re-encoded copy (PNG when it has transparency,
    /// else JPEG at quality 85) scaled to fit <paramref name="maxDimension"/>.
    /// </summary>
    /// <exception cref="AttachmentRejectedException">The bytes are not an image SkiaSharp can read.</exception>
    public PreparedImage Prepare(ReadOnlySpan<byte> data, string fileName, int maxDimension, long maxBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxDimension, 16);
        using var skData = SKData.CreateCopy(data);
        using var codec = SKCodec.Create(skData)
            ?? throw new AttachmentRejectedException($"{fileName} is not an image that can be read (PNG, JPEG, WebP, GIF, BMP).");
        var mediaType = MediaTypeOf(codec.EncodedFormat);
        var info = codec.Info;
        if (info.Width <= 0 || info.Height <= 0)
        {
            throw new AttachmentRejectedException($"{fileName} has no pixels.");
        }

        var fits = info.Width <= maxDimension && info.Height <= maxDimension;
        if (fits && data.Length <= maxBytes && mediaType is not null && SentAsIs.Contains(mediaType))
        {
            return new PreparedImage(data.ToArray(), mediaType, info.Width, info.Height, false);
        }

        var scale = Math.Min(1.0, (double)maxDimension / Math.Max(info.Width, info.Height));
        var width = Math.Max(1, (int)Math.Round(info.Width * scale));
        var height = Math.Max(1, (int)Math.Round(info.Height * scale));
        using var decoded = SKBitmap.Decode(codec)
            ?? throw new AttachmentRejectedException($"{fileName} could not be decoded.");
        using var scaled = scale < 1.0
            ? decoded.Resize(new SKImageInfo(width, height, decoded.ColorType, decoded.AlphaType), new SKSamplingOptions(SKCubicResampler.Mitchell))
            : decoded.Copy();
        if (scaled is null)
        {
            throw new AttachmentRejectedException($"{fileName} could not be scaled.");
        }

        var transparent = info.AlphaType is not SKAlphaType.Opaque && HasTransparency(scaled);
        using var image = SKImage.FromBitmap(scaled);
        using var encoded = image.Encode(transparent ? SKEncodedImageFormat.Png : SKEncodedImageFormat.Jpeg, 85);
        return new PreparedImage(encoded.ToArray(), transparent ? "image/png" : "image/jpeg", scaled.Width, scaled.Height, true);
    }

    /// <summary>The pixel size of an encoded image, or null when it cannot be read.</summary>
    public static (int Width, int Height)? Measure(ReadOnlySpan<byte> data)
    {
        using var skData = SKData.CreateCopy(data);
        using var codec = SKCodec.Create(skData);
        return codec is null ? null : (codec.Info.Width, codec.Info.Height);
    }

    private static string? MediaTypeOf(SKEncodedImageFormat format) => format switch
    {
        SKEncodedImageFormat.Png => "image/png",
        SKEncodedImageFormat.Jpeg => "image/jpeg",
        SKEncodedImageFormat.Webp => "image/webp",
        SKEncodedImageFormat.Gif => "image/gif",
        SKEncodedImageFormat.Bmp => "image/bmp",
        _ => null,
    };

    // Samples a grid of pixels: enough to tell a transparent logo from an opaque photo without a full scan.
    private static bool HasTransparency(SKBitmap bitmap)
    {
        var stepX = Math.Max(1, bitmap.Width / 64);
        var stepY = Math.Max(1, bitmap.Height / 64);
        for (var y = 0; y < bitmap.Height; y += stepY)
        {
            for (var x = 0; x < bitmap.Width; x += stepX)
            {
                if (bitmap.GetPixel(x, y).Alpha < 255)
                {
                    return true;
                }
            }
        }

        return false;
    }
}

/// <summary>An attachment the chat will not send, with the reason for the user.</summary>
public sealed class AttachmentRejectedException(string message) : Exception(message);
