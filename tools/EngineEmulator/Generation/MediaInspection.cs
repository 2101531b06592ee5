using System.Buffers.Binary;
using System.Globalization;

namespace MlxManager.EngineEmulator.Generation;

/// <summary>What the emulator learned about one attachment: enough to prove it arrived intact.</summary>
public sealed record MediaFacts(string Kind, string MimeType, long Bytes, int? Width, int? Height)
{
    public string Describe() => Width is int w && Height is int h
        ? string.Create(CultureInfo.InvariantCulture, $"{MimeType} {w}x{h}, {Bytes} bytes")
        : string.Create(CultureInfo.InvariantCulture, $"{MimeType}, {Bytes} bytes");
}

/// <summary>Decodes attachments (data URLs, or bytes fetched from http URLs) and reads image dimensions from
/// PNG, JPEG, GIF and WebP headers.</summary>
public static class MediaInspection
{
    /// <summary>Splits a <c>data:</c> URL; throws <see cref="FormatException"/> when it is not valid base64.</summary>
    public static (string MimeType, byte[] Bytes) DecodeDataUrl(string url)
    {
        if (!url.StartsWith("data:", StringComparison.OrdinalIgnoreCase)) throw new FormatException("not a data URL");
        var comma = url.IndexOf(',');
        if (comma < 0) throw new FormatException("data URL without a comma");
        var header = url[5..comma];
        var payload = url[(comma + 1)..];
        var mime = header.Split(';')[0];
        var bytes = header.EndsWith(";base64", StringComparison.OrdinalIgnoreCase)
            ? Convert.FromBase64String(payload)
            : System.Text.Encoding.UTF8.GetBytes(Uri.UnescapeDataString(payload));
        return (mime.Length == 0 ? "text/plain" : mime.ToLowerInvariant(), bytes);
    }

    public static MediaFacts Inspect(string kind, string mimeType, byte[] bytes)
    {
        var (width, height) = kind == "image" ? ImageSize(bytes) : (null, null);
        var sniffed = kind == "image" ? SniffImageType(bytes) : null;
        return new MediaFacts(kind, sniffed ?? mimeType, bytes.LongLength, width, height);
    }

    static string? SniffImageType(ReadOnlySpan<byte> b)
    {
        if (b.Length >= 8 && b[0] == 0x89 && b[1] == (byte)'P' && b[2] == (byte)'N' && b[3] == (byte)'G') return "image/png";
        if (b.Length >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF) return "image/jpeg";
        if (b.Length >= 6 && b[0] == (byte)'G' && b[1] == (byte)'I' && b[2] == (byte)'F') return "image/gif";
        if (b.Length >= 12 && b[0] == (byte)'R' && b[1] == (byte)'I' && b[8] == (byte)'W' && b[9] == (byte)'E') return "image/webp";
        return null;
    }

    /// <summary>Width and height from the image header, or nulls when the format is unknown or the header is cut.</summary>
    public static (int? Width, int? Height) ImageSize(ReadOnlySpan<byte> b)
    {
        switch (SniffImageType(b))
        {
            case "image/png" when b.Length >= 24:
                return ((int)BinaryPrimitives.ReadUInt32BigEndian(b[16..]), (int)BinaryPrimitives.ReadUInt32BigEndian(b[20..]));
            case "image/gif" when b.Length >= 10:
                return (BinaryPrimitives.ReadUInt16LittleEndian(b[6..]), BinaryPrimitives.ReadUInt16LittleEndian(b[8..]));
            case "image/jpeg":
                return JpegSize(b);
            case "image/webp" when b.Length >= 30:
                return WebpSize(b);
            default:
                return (null, null);
        }
    }

    static (int?, int?) JpegSize(ReadOnlySpan<byte> b)
    {
        int i = 2;
        while (i + 9 < b.Length)
        {
            if (b[i] != 0xFF) { i++; continue; }
            byte marker = b[i + 1];
            if (marker == 0xFF) { i++; continue; }
            if (marker is 0xD8 or 0x01 || (marker >= 0xD0 && marker <= 0xD7)) { i += 2; continue; }
            int length = BinaryPrimitives.ReadUInt16BigEndian(b[(i + 2)..]);
            // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC) carry the frame size.
            if (marker >= 0xC0 && marker <= 0xCF && marker is not (0xC4 or 0xC8 or 0xCC))
                return (BinaryPrimitives.ReadUInt16BigEndian(b[(i + 7)..]), BinaryPrimitives.ReadUInt16BigEndian(b[(i + 5)..]));
            i += 2 + length;
        }
        return (null, null);
    }

    static (int?, int?) WebpSize(ReadOnlySpan<byte> b)
    {
        var chunk = System.Text.Encoding.ASCII.GetString(b[12..16]);
        return chunk switch
        {
            "VP8 " => (BinaryPrimitives.ReadUInt16LittleEndian(b[26..]) & 0x3FFF, BinaryPrimitives.ReadUInt16LittleEndian(b[28..]) & 0x3FFF),
            "VP8L" => (1 + ((b[21] | (b[22] << 8)) & 0x3FFF), 1 + (((b[22] >> 6) | (b[23] << 2) | (b[24] << 10)) & 0x3FFF)),
            "VP8X" => (1 + (b[24] | (b[25] << 8) | (b[26] << 16)), 1 + (b[27] | (b[28] << 8) | (b[29] << 16))),
            _ => (null, null),
        };
    }
}
