using System.Globalization;

namespace MlxManager.Core.Discovery;

/// <summary>The short number formats used on badges.</summary>
public static class ModelFormat
{
    /// <summary>"7.6B", "14.8B", "235B", "494M", "22.7M".</summary>
    public static string Parameters(long count)
    {
        var (value, unit) = count switch
        {
            >= 1_000_000_000_000 => (count / 1e12, "T"),
            >= 1_000_000_000 => (count / 1e9, "B"),
            >= 1_000_000 => (count / 1e6, "M"),
            >= 1_000 => (count / 1e3, "K"),
            _ => (count, ""),
        };
        return Compact(value) + unit;
    }

    /// <summary>"32K" (32768), "128K" (131072 or 128000), "40K", "256K", "1M", "512".</summary>
    public static string Tokens(long tokens)
    {
        // Round decimal figures (128000) read as decimal thousands, powers-of-two figures (131072) as binary ones.
        if (tokens >= 1000 && tokens % 1000 == 0)
        {
            return tokens >= 1_000_000 && tokens % 1_000_000 == 0 ? $"{tokens / 1_000_000}M" : $"{tokens / 1000}K";
        }

        if (tokens >= 1_048_576 && tokens % 1_048_576 == 0)
        {
            return $"{tokens / 1_048_576}M";
        }

        if (tokens >= 1024 && tokens % 1024 == 0)
        {
            return $"{tokens / 1024}K";
        }

        return tokens >= 1000 ? Compact(tokens / 1e3) + "K" : tokens.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>Decimal units as the Hub and Finder show them: "4.2 GB", "850 MB", "12 KB".</summary>
    public static string Bytes(long bytes)
    {
        var (value, unit) = bytes switch
        {
            >= 1_000_000_000_000 => (bytes / 1e12, "TB"),
            >= 1_000_000_000 => (bytes / 1e9, "GB"),
            >= 1_000_000 => (bytes / 1e6, "MB"),
            >= 1_000 => (bytes / 1e3, "KB"),
            _ => (bytes, "B"),
        };
        return $"{(value >= 100 ? Math.Round(value).ToString("0", CultureInfo.InvariantCulture) : value.ToString("0.#", CultureInfo.InvariantCulture))} {unit}";
    }

    /// <summary>Binary units for memory figures: "5.6 GiB", "144 KiB".</summary>
    public static string BinaryBytes(long bytes)
    {
        var (value, unit) = bytes switch
        {
            >= 1L << 40 => (bytes / (double)(1L << 40), "TiB"),
            >= 1L << 30 => (bytes / (double)(1L << 30), "GiB"),
            >= 1L << 20 => (bytes / (double)(1L << 20), "MiB"),
            >= 1L << 10 => (bytes / 1024.0, "KiB"),
            _ => (bytes, "B"),
        };
        return $"{value.ToString(value >= 100 ? "0" : "0.#", CultureInfo.InvariantCulture)} {unit}";
    }

    public static string Number(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    private static string Compact(double value) =>
        value >= 100 ? Math.Round(value).ToString("0", CultureInfo.InvariantCulture) : value.ToString("0.#", CultureInfo.InvariantCulture);
}
