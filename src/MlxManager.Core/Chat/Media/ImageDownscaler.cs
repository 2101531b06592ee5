using Microsoft.Extensions.Options;
using SkiaSharp;

namespace MlxManager.Core.Chat.Media;

/// <summary>An image ready to send: its bytes, type and size, and whether it was scaled down.</summary>
public sealed record PreparedImage(byte[] Data, string MediaType, int Width, int Height, bool Scaled);

/// <summary>
/// Checks that uploaded bytes really are an image and scales very large ones down before they are sent to an
/// engine (a 48-megapixel photo as a data URL is tens of MB of JSON and thousands of vision tokens). Uses SkiaSharp
/// (MIT; ImageSharp 2.x has reported flaws with crafted files and 3.x needs a paid licence), decoding in-process
/// with no external tool. A small file can describe a huge bitmap (a 420 KB PNG of 12000×12000 pixels decodes to
/// 576 MB), so the size is read from the header first and refused above <see cref="ChatOptions.MaxImagePixels"/>;
/// formats that can (JPEG, WebP) are decoded already scaled, and at most
/// <see cref="ChatOptions.MaxConcurrentImageDecodes"/> images are decoded at once.
/// </summary>
public sealed class ImageDownscaler(IOptions<ChatOptions> options)
{
    private static readonly HashSet<string> SentAsIs = new(StringComparer.OrdinalIgnoreCase) { "image/png", "image/jpeg", "image/webp", "image/gif" };

    private readonly SemaphoreSlim _decodes = new(options.Value.MaxConcurrentImageDecodes);

    /// <summary>
    /// Returns the image unchanged when it is PNG, JPEG, WebP or GIF, no side exceeds <paramref name="maxDimension"/>
    /// and it is at most <paramref name="maxBytes"/>; otherwise a re-encoded copy (PNG when it has transparency,
    /// else JPEG at quality 85) scaled to fit <paramref name="maxDimension"/>.
    /// </summary>
    /// <exception cref="AttachmentRejectedException">The bytes are not an image SkiaSharp can read, or it has more
    /// pixels than allowed.</exception>
    public async Task<PreparedImage> PrepareAsync(ReadOnlyMemory<byte> data, string fileName, int maxDimension, long maxBytes, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxDimension, 16);
        await _decodes.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return Prepare(data.Span, fileName, maxDimension, maxBytes);
        }
        finally
        {
            _decodes.Release();
        }
    }

    private PreparedImage Prepare(ReadOnlySpan<byte> data, string fileName, int maxDimension, long maxBytes)
    {
        using var skData = SKData.CreateCopy(data);
        using var codec = SKCodec.Create(skData)
            ?? throw new AttachmentRejectedException($"{fileName} is not an image that can be read (PNG, JPEG, WebP, GIF, BMP).");
        var mediaType = MediaTypeOf(codec.EncodedFormat);
        var info = codec.Info;
        if (info.Width <= 0 || info.Height <= 0)
        {
            throw new AttachmentRejectedException($"{fileName} has no pixels.");
        }

        var maxPixels = options.Value.MaxImagePixels;
        if ((long)info.Width * info.Height > maxPixels)
        {
            throw new AttachmentRejectedException(
                $"{fileName} is {info.Width}×{info.Height} pixels ({Megapixels((long)info.Width * info.Height)}); images may have at most {Megapixels(maxPixels)}.");
        }

        var fits = info.Width <= maxDimension && info.Height <= maxDimension;
        if (fits && data.Length <= maxBytes && mediaType is not null && SentAsIs.Contains(mediaType))
        {
            return new PreparedImage(data.ToArray(), mediaType, info.Width, info.Height, false);
        }

        var scale = Math.Min(1.0, (double)maxDimension / Math.Max(info.Width, info.Height));
        var width = Math.Max(1, (int)Math.Round(info.Width * scale));
        var height = Math.Max(1, (int)Math.Round(info.Height * scale));
        using var decoded = DecodeScaled(codec, (float)scale)
            ?? throw new AttachmentRejectedException($"{fileName} could not be decoded.");
        using var scaled = decoded.Width != width || decoded.Height != height
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

    // The codec's nearest size at or above the target (JPEG decodes at 1/8 steps, WebP at any size); formats
    // that cannot scale while decoding (PNG, GIF, BMP) give their full size, which the pixel budget bounds.
    private static SKBitmap? DecodeScaled(SKCodec codec, float scale)
    {
        var size = codec.GetScaledDimensions(scale);
        var info = new SKImageInfo(size.Width, size.Height, SKImageInfo.PlatformColorType,
            codec.Info.AlphaType == SKAlphaType.Opaque ? SKAlphaType.Opaque : SKAlphaType.Premul);
        var bitmap = new SKBitmap(info);
        var result = codec.GetPixels(info, bitmap.GetPixels());
        if (result is SKCodecResult.Success or SKCodecResult.IncompleteInput)
        {
            return bitmap;
        }

        bitmap.Dispose();
        return null;
    }

    private static string Megapixels(long pixels) => $"{pixels / 1_000_000.0:0.#} megapixels";

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
