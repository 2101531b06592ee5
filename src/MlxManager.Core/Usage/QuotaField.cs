using System.Globalization;

namespace MlxManager.Core.Usage;

/// <summary>A quota as typed in a form: empty is "not set" (null), else a whole number from 0 to a maximum.</summary>
public static class QuotaField
{
    public static (bool Valid, long? Value) Parse(string? text, long max)
    {
        var trimmed = text?.Trim().Replace(",", "", StringComparison.Ordinal).Replace("_", "", StringComparison.Ordinal);
        if (string.IsNullOrEmpty(trimmed))
        {
            return (true, null);
        }

        return long.TryParse(trimmed, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value <= max
            ? (true, value)
            : (false, null);
    }
}

/// <summary>How pages write a limit.</summary>
public static class QuotaText
{
    public static string Tokens(long? perDay) =>
        perDay is { } tokens ? string.Create(CultureInfo.InvariantCulture, $"{tokens:N0} tokens a day") : "no token limit";

    public static string Concurrent(int? atOnce) => atOnce is { } limit ? $"at most {limit} at once" : "any number at once";
}
